"""Large results go to a file, never through XCom: the base of the providers' extract operators."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator


class FileOutputOperator(BaseOperator):
    """An operator whose result is written as JSON to ``output_path`` (templated; the folder is made)
    and whose XCom is only a small summary with that path."""

    template_fields: Sequence[str] = ("output_path",)

    def __init__(self, *, output_path: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.output_path = output_path

    def write_output(self, value: Any, path: str | None = None) -> str:
        """Write ``value`` atomically (a reader never sees half a file) and return the path."""
        target = Path(path or self.output_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
        tmp.replace(target)
        return str(target)
