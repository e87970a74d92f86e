"""Thin wrappers over the Linux system calls vnetkit needs and Python 3.11 lacks.

Owns: setns, unshare, mount, umount2 through libc, raising ``OSError`` with the
errno set. Does not own: deciding what a failure means (see ``classify``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

CLONE_NEWNET = 0x40000000
MS_BIND = 0x1000
MS_REC = 0x4000
MS_SHARED = 1 << 20
MNT_DETACH = 0x2

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.mount.argtypes = [
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_ulong,
    ctypes.c_void_p,
]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


class _Protoent(ctypes.Structure):
    _fields_ = (
        ("p_name", ctypes.c_char_p),
        ("p_aliases", ctypes.POINTER(ctypes.c_char_p)),
        ("p_proto", ctypes.c_int),
    )


_libc.getprotobynumber.argtypes = [ctypes.c_int]
_libc.getprotobynumber.restype = ctypes.POINTER(_Protoent)


def getprotobynumber(number: int) -> str | None:
    """The protocol's name as the C library (NSS, /etc/protocols) gives it; None if unknown."""
    entry = _libc.getprotobynumber(number)
    return entry.contents.p_name.decode("utf-8", "surrogateescape") if entry else None


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def setns(fd: int, nstype: int = CLONE_NEWNET) -> None:
    """Move the calling thread into the namespace open at ``fd``."""
    _check(_libc.setns(fd, nstype), "setns")


def unshare(flags: int) -> None:
    """Give the calling thread new namespaces of the kinds in ``flags``."""
    _check(_libc.unshare(flags), "unshare")


def mount(source: str, target: str, fstype: str, flags: int) -> None:
    """mount(2) without data."""
    _check(
        _libc.mount(source.encode(), target.encode(), fstype.encode(), flags, None),
        f"mount {source} on {target}",
    )


def umount2(target: str, flags: int) -> None:
    """umount2(2)."""
    _check(_libc.umount2(target.encode(), flags), f"umount {target}")
