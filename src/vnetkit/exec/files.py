"""Small files vnetkit writes for others to read (``/etc/netns/<name>/resolv.conf``).

Owns: creating a file only if it does not exist yet (never over someone
else's), with its directory, and what a failure means (``PermissionDenied``
without root, ``OperationError`` otherwise). Does not own: what goes in it.
"""

from __future__ import annotations

import os

from vnetkit.errors import OperationError, PermissionDenied

__all__ = ["create_new"]


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
