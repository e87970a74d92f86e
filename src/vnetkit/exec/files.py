"""Small files vnetkit writes (``/etc/netns/<name>/resolv.conf``, a lab's ledger) and file locks.

Owns: creating a file only if it does not exist yet (never over someone
else's), with its directory, and what a failure means (``PermissionDenied``
without root, ``OperationError`` otherwise). Does not own: what goes in it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator

from vnetkit.errors import OperationError, PermissionDenied

__all__ = ["create_new", "locked", "names_in", "read_text", "remove", "remove_empty_dir", "write_atomic"]


def create_new(path: str, text: str, *, mode: int = 0o644) -> bool:
    """Write ``text`` to a new file at ``path`` (and its directory); False, untouched, if one is there."""
    action = f"write {path}"
    try:
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    except FileExistsError:
        return False
    except PermissionError:
        raise PermissionDenied(f"{action}: permission denied (run as root)") from None
    except OSError as exc:
        raise OperationError(f"{action}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return True


def _failure(exc: OSError, action: str) -> OperationError:
    if isinstance(exc, PermissionError):
        return PermissionDenied(f"{action}: permission denied (run as root)")
    return OperationError(f"{action}: {exc.strerror or exc}")


def write_atomic(path: str, text: str, *, mode: int = 0o644) -> None:
    """Replace ``path`` with ``text`` in one step (a temporary file renamed over it), synced to disk."""
    action = f"write {path}"
    tmp = f"{path}.tmp.{os.getpid()}"
    try:
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise _failure(exc, action) from None


def read_text(path: str) -> str | None:
    """The text of ``path``; None if there is no such file."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _failure(exc, f"read {path}") from None


def remove(path: str) -> bool:
    """Delete ``path``; False if it was not there."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise _failure(exc, f"remove {path}") from None
    return True


def remove_empty_dir(directory: str) -> bool:
    """Remove ``directory`` if it is empty; False (and nothing done) if it is not, or is gone."""
    try:
        os.rmdir(directory)
    except OSError:
        return False
    return True


def names_in(directory: str, suffix: str) -> list[str]:
    """The names (without ``suffix``) of the files in ``directory`` ending with it; [] if none."""
    try:
        entries = os.listdir(directory)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise _failure(exc, f"list {directory}") from None
    return sorted(e[: -len(suffix)] for e in entries if e.endswith(suffix) and ".tmp." not in e)


@contextlib.contextmanager
def locked(path: str) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (made if missing) for the block; another process waits."""
    action = f"lock {path}"
    try:
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise _failure(exc, action) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
