"""Per-namespace ``net.*`` sysctls, read and written through ``/proc/sys`` of the calling thread.

Owns: which keys are allowed (``net.*`` only, dotted or with ``/``
separators, never ``..``) and where each lives under ``/proc/sys``,
reading and writing the file, and what a failure means: a key that does
not exist is ``NotFound``, a value the kernel refuses is ``ConfigError``
(exit 2), a permission problem is ``PermissionDenied`` (exit 1). ``/proc/sys/net``
shows the namespace of the thread that opens it, so callers run these on the
namespace's thread (``NetlinkBackend.in_namespace``).
Does not own: which namespace that is, or refusing the caller's own (``vnetkit.links``).
"""

from __future__ import annotations

from vnetkit.errors import ConfigError, NotFound, PermissionDenied
from vnetkit.exec.netlink import classify_netlink

__all__ = ["path", "read", "write"]


def path(key: str) -> str:
    """The ``/proc/sys`` file of ``key`` (``net.ipv4.ip_forward`` or ``net/ipv4/conf/eth0.10/rp_filter``)."""
    parts = key.split("/") if "/" in key else key.split(".")
    if parts[0] != "net" or len(parts) < 3 or any(not p or p in (".", "..") for p in parts):
        raise ConfigError(f"invalid sysctl {key!r}: only per-namespace net.* keys, e.g. net.ipv4.ip_forward")
    return "/proc/sys/" + "/".join(parts)


def read(key: str, *, where: str) -> str:
    """The value of ``key`` in the calling thread's namespace (``where`` names it in errors)."""
    file = path(key)
    try:
        with open(file, encoding="ascii") as handle:
            return handle.read().strip()
    except FileNotFoundError:
        raise NotFound(f"sysctl {key} does not exist in {where}") from None
    except PermissionError:
        raise PermissionDenied(f"read sysctl {key} in {where}: permission denied (run as root)") from None
    except OSError as exc:
        raise classify_netlink(exc, action=f"read sysctl {key} in {where}") from None


def write(key: str, value: str | int, *, where: str) -> None:
    """Write ``value`` to ``key`` in the calling thread's namespace (``where`` names it in errors)."""
    file = path(key)
    try:
        with open(file, "w", encoding="ascii") as handle:
            handle.write(f"{value}\n")
    except FileNotFoundError:
        raise NotFound(f"sysctl {key} does not exist in {where}") from None
    except PermissionError:
        raise PermissionDenied(
            f"set sysctl {key}={value} in {where}: permission denied (the key is read-only, or run as root)"
        ) from None
    except OSError as exc:
        # EINVAL, ERANGE: the value is refused (ConfigError); others as netlink's.
        raise classify_netlink(exc, action=f"set sysctl {key}={value} in {where}") from None
