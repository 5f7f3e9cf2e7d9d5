"""Files in ``var/`` that only the orchestrator's user may read: the directory is 0700, its files 0600.

``create_once`` writes a secret (``SECRET_KEY``, the env encryption key) exactly once, even when the
web, worker, beat and watcher processes start at the same moment: the value goes to a private
temporary file created with ``O_EXCL`` and mode 0600, then is hard-linked into place. ``link`` fails
when the name exists, so there is one winner, and a reader never sees a half-written file (writing
then ``chmod`` left a window in which the file was world-readable and possibly empty).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """``path`` created 0700, or tightened to 0700 if an older version made it 0755."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if path.stat().st_uid == os.geteuid() and path.stat().st_mode & 0o077:
        path.chmod(DIR_MODE)
    return path


def create_once(path: Path, make: Callable[[], str]) -> str:
    """The value kept in ``path``; if there is none yet, ``make()``'s, written with mode 0600 exactly once."""
    if path.exists():
        return _read(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(make() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):  # another process won: use its value
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return _read(path)


def replace(path: Path, value: str) -> None:
    """Write ``value`` to ``path`` atomically (a 0600 temporary file renamed over it)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(value + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _read(path: Path) -> str:
    value = path.read_text().strip()
    if not value:
        raise RuntimeError(f"{path} is empty: remove it and start again to create a new one")
    return value
