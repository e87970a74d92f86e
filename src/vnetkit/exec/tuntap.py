"""Persistent tun/tap devices through /dev/net/tun (netlink cannot create them).

Owns: the TUNSETIFF / TUNSETOWNER / TUNSETGROUP / TUNSETPERSIST ioctls and
what their failures mean. The device appears in the namespace of the
calling thread, so callers run this on the target namespace's thread
(``NetlinkBackend.in_namespace``). Does not own: configuring the device
afterwards (``vnetkit.links``).
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct

from vnetkit.errors import AlreadyExists, PermissionDenied, UnsupportedError
from vnetkit.exec.netlink import classify_netlink
from vnetkit.model.links import Tuntap

__all__ = ["create"]

_TUNSETIFF = 0x400454CA
_TUNSETPERSIST = 0x400454CB
_TUNSETOWNER = 0x400454CC
_TUNSETGROUP = 0x400454CE
_IFF_TUN = 0x0001
_IFF_TAP = 0x0002
_IFF_NO_PI = 0x1000
_IFF_MULTI_QUEUE = 0x0100
_IFF_TUN_EXCL = 0x8000  # fail instead of attaching to an existing device


def create(spec: Tuntap, *, action: str) -> None:
    """Create the persistent device of ``spec`` in the calling thread's namespace."""
    flags = (_IFF_TUN if spec.mode == "tun" else _IFF_TAP) | _IFF_NO_PI | _IFF_TUN_EXCL
    if spec.multi_queue:
        flags |= _IFF_MULTI_QUEUE
    try:
        fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        raise UnsupportedError(f"{action}: /dev/net/tun is missing (modprobe tun)") from None
    except PermissionError:
        raise PermissionDenied(f"{action}: cannot open /dev/net/tun (run as root)") from None
    try:
        fcntl.ioctl(fd, _TUNSETIFF, struct.pack("16sH22x", spec.name.encode(), flags))
        if spec.owner is not None:
            fcntl.ioctl(fd, _TUNSETOWNER, spec.owner)
        if spec.group_owner is not None:
            fcntl.ioctl(fd, _TUNSETGROUP, spec.group_owner)
        fcntl.ioctl(fd, _TUNSETPERSIST, 1)
    except OSError as exc:
        if exc.errno == errno.EBUSY:
            raise AlreadyExists(f"{action}: a device with that name exists") from None
        raise classify_netlink(exc, action=action) from None
    finally:
        os.close(fd)
