"""Atomic file writes: a crash at any moment leaves the old file or the new one, never a mix.

The data go to a temporary file in the destination's directory, are flushed and fsynced, the
temporary file takes the destination's permissions (a new file: ``0666`` less the user's umask,
as ``open`` would give it) and replaces it with ``os.replace`` (atomic on POSIX), and the
directory is fsynced so that the rename itself survives a power loss. Every writer of results
in nasicon-sim (structures, manifests, tables, models, reports, figures) uses these functions.

A process killed between creating its temporary file and the rename leaves the temporary file
``.<name>.<host>-<pid>.<random>.tmp`` behind. The next write of the same destination, and
:func:`clean_stale_temporaries` (called by the study runner on its output directory), remove
such files whose writer is no longer running on this host (files of unknown writers: when
older than :data:`STALE_AFTER_S`).
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "atomic_savefig",
    "atomic_write_bytes",
    "atomic_write_text",
    "clean_stale_temporaries",
    "new_file_mode",
]

#: Age after which a temporary file of an unknown writer (another host, an older version) is
#: considered abandoned, seconds.
STALE_AFTER_S = 3600.0

_TMP = re.compile(r"^\.(?P<name>.+)\.(?P<host>[^.]*)-(?P<pid>\d+)\.[^.]+\.tmp$")
_OLD_TMP = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")  # tempfile.mkstemp's names (<= 0.x)


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname())[:40]


def new_file_mode() -> int:
    """Permission bits of a new file under the current umask (``0o666 & ~umask``)."""
    umask = None
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                umask = int(line.split()[1], 8)
    if umask is None:  # not Linux: read it by setting it (not thread-safe, hence the fallback)
        umask = os.umask(0o022)
        os.umask(umask)
    return 0o666 & ~umask


def _writer_alive(host: str, pid: int) -> bool | None:
    """True/False if the writer ran on this host, None if it is unknown here."""
    if host != _host():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_stale(path: Path) -> bool:
    match = _TMP.match(path.name)
    alive = _writer_alive(match["host"], int(match["pid"])) if match else None
    if alive is not None:
        return not alive
    if match is None and not _OLD_TMP.match(path.name):
        return False
    try:
        return time.time() - path.stat().st_mtime > STALE_AFTER_S
    except OSError:
        return False


def clean_stale_temporaries(directory: str | os.PathLike, name: str | None = None) -> list[Path]:
    """Remove temporary files left by killed atomic writes in ``directory``.

    Parameters
    ----------
    directory : path-like
    name : str, optional
        Only the temporaries of this destination file name.

    Returns
    -------
    list of Path
        The files removed.
    """
    directory = Path(directory)
    removed = []
    pattern = f".{glob_escape(name)}.*.tmp" if name else ".*.tmp"
    with contextlib.suppress(OSError):
        for path in directory.glob(pattern):
            if path.is_file() and _is_stale(path):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed.append(path)
    return removed


def glob_escape(text: str) -> str:
    """``text`` with glob metacharacters escaped."""
    return re.sub(r"([*?\[])", r"[\1]", text)


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
    clean_stale_temporaries(path.parent, path.name)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{_host()}-{os.getpid()}.",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        mode = path.stat().st_mode & 0o7777 if path.exists() else new_file_mode()
        os.chmod(tmp, mode)
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


def atomic_savefig(fig: object, path: str | os.PathLike, **savefig_kwargs: object) -> Path:
    """Save a matplotlib figure atomically (rendered in memory, then written at once).

    The format follows the file suffix unless ``format`` is given.
    """
    import io

    path = Path(path)
    buffer = io.BytesIO()
    savefig_kwargs.setdefault("format", path.suffix.lstrip(".").lower() or "png")
    fig.savefig(buffer, **savefig_kwargs)  # type: ignore[attr-defined]
    return atomic_write_bytes(path, buffer.getvalue())
