"""The ``/__sandbox`` control routes every sandbox has (not part of the emulated API).

- ``POST /__sandbox/faults`` arms a fault (see ``faults.py``); ``GET`` lists; ``DELETE`` clears.
- ``GET /__sandbox/stats`` counts calls by kind since start or the last ``DELETE``.
- ``GET|PATCH /__sandbox/config`` reads or changes the sandbox's runtime options
  (each sandbox documents its own keys, e.g. ``write_delay_per_item``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from sandbox.common.faults import FaultBook


def control_router(book: FaultBook, config: dict[str, Any]) -> APIRouter:
    router = APIRouter(prefix="/__sandbox")

    @router.post("/faults")
    def arm_fault(spec: dict[str, Any]) -> dict[str, Any]:
        try:
            return book.arm(spec).public()
        except (TypeError, ValueError) as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from exc

    @router.get("/faults")
    def list_faults() -> list[dict[str, Any]]:
        return [f.public() for f in book.faults]

    @router.delete("/faults")
    def clear_faults() -> dict[str, str]:
        book.clear()
        return {"status": "cleared"}

    @router.get("/stats")
    def stats() -> dict[str, int]:
        return book.stats()

    @router.delete("/stats")
    def reset_stats() -> dict[str, str]:
        book.reset_stats()
        return {"status": "reset"}

    @router.get("/config")
    def get_config() -> dict[str, Any]:
        return dict(config)

    @router.patch("/config")
    def patch_config(changes: dict[str, Any]) -> dict[str, Any]:
        unknown = set(changes) - set(config)
        if unknown:
            raise HTTPException(status_code=400, detail=f"unknown config keys {sorted(unknown)}; known: {sorted(config)}")
        config.update(changes)
        return dict(config)

    return router
