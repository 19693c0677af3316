"""Where run reports live: the reports folder, a run's file name and path, and the atomic write."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from officeguy_woocommerce.include.config import Settings

_DAG_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,249}")  # Airflow's dag id alphabet, no leading dot
_KEEP = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.")
_MAX_STEM = 180  # well under the 255-byte file-name limit, leaving room for ".html" and temp names
_HASH_MARK = "~"  # never produced by the encoding itself, so a hashed name cannot collide with a plain one


def reports_dir(settings: Settings | None = None) -> Path:
    """The folder reports are written to and served from: ``settings.reports_dir``
    (``$STOCK_SYNC_REPORTS_DIR``) when set, else ``settings.home / "reports"`` (``$STOCK_SYNC_HOME/reports``).

    Without ``settings`` they are loaded now, on every call: a changed environment counts at once, and
    a settings error fails the call (a request, a task), not an import.
    """
    if settings is None:
        from officeguy_woocommerce.include import config

        settings = config.load()
    return settings.reports_dir or settings.home / "reports"


def _encode_run_id(run_id: str) -> str:
    """Percent-encode everything outside [A-Za-z0-9_.-] (UTF-8 bytes), and a leading dot.

    ``manual__2026-03-01T03:00:00+00:00`` → ``manual__2026-03-01T03%3A00%3A00%2B00%3A00``: readable,
    reversible, no separators, never ``.``/``..``, no hidden files. Over-long results keep a prefix
    and end with ``~`` and a hash of the full run id.
    """
    out = "".join(ch if ch in _KEEP else "".join(f"%{b:02X}" for b in ch.encode("utf-8")) for ch in run_id)
    if out.startswith("."):
        out = "%2E" + out[1:]
    if len(out) > _MAX_STEM:
        digest = hashlib.sha256(run_id.encode("utf-8")).hexdigest()[:20]
        out = out[: _MAX_STEM - len(digest) - 1] + _HASH_MARK + digest
    return out


def run_id_from_filename(name: str) -> str | None:
    """The run id a report file name encodes (``….html``), or None for hashed long names."""
    from urllib.parse import unquote

    stem = name[:-5] if name.endswith(".html") else name
    if _HASH_MARK in stem:
        return None
    return unquote(stem, encoding="utf-8", errors="replace")


_TRY_MARK = "#"  # "<run key>#<n>": the n-th try of a run (Airflow's run ids have no "#" by default)
_TRY_NAME = re.compile(r"(?s)(.+)#([2-9]|[1-9][0-9]+)")
MAX_TRIES = 1000  # how far latest_try looks


def report_name(run_key: str, attempt: int | None = 1) -> str:
    """The report's name (the last segment of its URL, its file name once encoded) for one try of a run:
    the run key itself for the first try, ``<run key>#<n>`` for the n-th (a run cleared and run again).
    The first try keeps the name reports always had, so links to it stay valid."""
    attempt = int(attempt or 1)
    return run_key if attempt <= 1 else f"{run_key}{_TRY_MARK}{attempt}"


def split_report_name(name: str) -> tuple[str, int]:
    """``(run key, try)`` of a report name: the inverse of :func:`report_name`."""
    match = _TRY_NAME.fullmatch(name)
    return (match.group(1), int(match.group(2))) if match else (name, 1)


def latest_try(folder: Path | str, dag_id: str, run_key: str) -> int:
    """The newest try of a run that has a report in ``folder`` (1 when none has)."""
    if not isinstance(dag_id, str) or not _DAG_ID.fullmatch(dag_id) or not run_key:
        return 1
    try:
        names = {p.name for p in (Path(folder) / dag_id).iterdir()}
    except OSError:
        return 1
    return next((n for n in range(MAX_TRIES, 1, -1) if f"{_encode_run_id(report_name(run_key, n))}.html" in names), 1)


def report_path(folder: Path | str, dag_id: str, run_id: str) -> Path:
    """``<folder>/<dag_id>/<encoded run id>.html``. Raises ValueError for anything that could leave
    the folder (a dag id with separators or dots in front, an empty run id, a symlink out)."""
    if not isinstance(dag_id, str) or not _DAG_ID.fullmatch(dag_id):
        raise ValueError(f"not a valid DAG id for a report: {dag_id!r}")
    if not isinstance(run_id, str) or not run_id or "\x00" in run_id:
        raise ValueError(f"not a valid run id for a report: {run_id!r}")
    root = Path(folder)
    path = root / dag_id / f"{_encode_run_id(run_id)}.html"
    # Belt and braces: the encoding already rules out separators, but a symlinked DAG folder could
    # still point elsewhere; resolve() follows it and the check refuses the result.
    if not path.resolve().is_relative_to(root.resolve()):
        raise ValueError(f"report path for {dag_id!r}/{run_id!r} leaves the reports folder")
    return path


def write_report(folder: Path | str, dag_id: str, run_id: str, html_text: str) -> Path:
    """Write a report atomically (temp file in the same folder, then rename): a reader — the
    plugin serving it, a merchant refreshing — sees the old page or the new one, never half."""
    path = report_path(folder, dag_id, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The dot prefix hides the temp file from the plugin's index while it is being written.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".html")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(html_text)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates 0600; the api-server serving the page may run as another user of the group.
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
