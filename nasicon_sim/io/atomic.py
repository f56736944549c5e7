"""Atomic file writes: a crash at any moment leaves the old file or the new one, never a mix.

The data go to a temporary file in the destination's directory, are flushed and fsynced, the
temporary file takes the destination's permissions and replaces it with ``os.replace`` (atomic
on POSIX), and the directory is fsynced so that the rename itself survives a power loss.
Every writer of results in nasicon-sim (structures, manifests, tables, models, reports) uses
these two functions.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write_bytes", "atomic_write_text"]


def atomic_write_bytes(
    path: str | os.PathLike, data: bytes, *, _before_replace: Callable[[], None] | None = None
) -> Path:
    """Write ``data`` to ``path`` atomically.

    Parameters
    ----------
    path : path-like
        Destination (its directory must exist).
    data : bytes
    _before_replace : callable, optional
        Test hook called between the fsync and the rename (simulates a crash there).

    Returns
    -------
    Path
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        if _before_replace is not None:
            _before_replace()
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return path


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write_bytes`)."""
    return atomic_write_bytes(path, text.encode(encoding))
