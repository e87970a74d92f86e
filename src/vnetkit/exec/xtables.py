"""Which iptables target extensions are installed (read once from the xtables library directory).

Owns: the one look at the file system that tells a target extension
(``libxt_MASQUERADE.so``) from a user chain name, which transaction checks
need because ``iptables-nft-restore --test`` accepts jumps to undefined chains.
"""

from __future__ import annotations

import os
import re

__all__ = ["find_targets", "installed_targets"]

_CANDIDATES = (
    "/usr/lib/x86_64-linux-gnu/xtables",
    "/usr/lib/aarch64-linux-gnu/xtables",
    "/usr/lib/xtables",
    "/usr/lib64/xtables",
    "/usr/libexec/xtables",
    "/lib/xtables",
)
# Targets are the upper-case extensions: libxt_MARK.so is a target, libxt_mark.so a match.
_TARGET = re.compile(r"lib(?:xt|ipt|ip6t)_([A-Z][A-Z0-9_]*)\.so")


def installed_targets() -> frozenset[str]:
    """Names of the installed target extensions, as the default host probed them once."""
    from vnetkit.exec.host import default_host  # noqa: PLC0415 - the host module imports this one

    return default_host().installed_targets()


def find_targets() -> frozenset[str]:
    """Names of the installed target extensions (``MASQUERADE``, ``LOG``...); empty if none found."""
    dirs = [d for d in os.environ.get("XTABLES_LIBDIR", "").split(":") if d] or list(_CANDIDATES)
    names: set[str] = set()
    for directory in dirs:
        try:
            entries = os.listdir(directory)
        except OSError:
            continue
        names.update(m.group(1) for m in map(_TARGET.fullmatch, entries) if m is not None)
    return frozenset(names)
