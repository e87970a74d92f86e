"""``Host``: everything vnetkit holds on this machine for one caller, with a lifetime the caller controls.

Owns: the namespace worker threads (its ``SystemRunner``), the netlink
sockets (its ``NetlinkBackend``), the thread that makes namespaces, the
capability probes (installed iptables targets, link kinds the kernel lacks)
and the caches clients keep between calls (canonical forms, rendered rules,
parsed listing columns). Every client takes one (``IPTables(host=...)``,
``Links(host=...)``, ``inventory(host=...)``, ``netns.create(..., host=...)``);
given none they share :func:`default_host`, which behaves as vnetkit always
has. ``with Host() as host:`` ends its threads and closes its sockets on
exit, so a lab or a test owns exactly what it made. Does not own: what the
threads and sockets are used for (runner, netlink, netns).

This module holds the one piece of module-level state in ``exec/``,
``links/`` and ``iptables/``: the default host, made on first use.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

from vnetkit.exec import netns as _netns
from vnetkit.exec.netlink import NetlinkBackend
from vnetkit.exec.runner import SystemRunner
from vnetkit.exec.xtables import find_targets

__all__ = ["Host", "default_host"]

T = TypeVar("T")


class Host:
    """Worker threads, sockets, probes and caches for one caller; close it (or use ``with``) when done."""

    def __init__(self) -> None:
        self.runner = SystemRunner()
        self.netlink = NetlinkBackend(self.runner)
        self._maker: _netns.Maker | None = None
        self._run_dir_ready = False
        self._guard = threading.Lock()
        self._caches: dict[Hashable, object] = {}
        self._pid = os.getpid()

    # -- namespaces ----------------------------------------------------------------

    def create_netns(self, name: str, *, loopback_up: bool = True) -> None:
        """Create network namespace ``name`` (see :func:`vnetkit.exec.netns.create`).

        Its netlink socket is opened by the creating thread, already inside.
        """
        with self._guard:
            if not self._run_dir_ready:
                _netns.ensure_run_dir()
                self._run_dir_ready = True
        _netns.build(name, loopback_up=loopback_up, maker=self._namespace_maker, created=self.netlink.adopt)

    def delete_netns(self, name: str) -> None:
        """Delete network namespace ``name`` after releasing what this host holds in it."""
        self.release(name)
        _netns.remove(name)

    def release(self, name: str) -> None:
        """End this host's worker thread in namespace ``name`` and close its socket there.

        A thread or socket left inside would keep a deleted namespace alive, unseen.
        """
        self.runner.release(name)
        self.netlink.release(name)

    def _namespace_maker(self) -> _netns.Maker:
        with self._guard:
            if self._maker is None or self._maker.broken or self._pid != os.getpid():
                self._maker, self._pid = _netns.Maker(), os.getpid()  # a fork's child has no maker thread
            return self._maker

    # -- probes and caches -----------------------------------------------------------

    def cache(self, key: Hashable, make: Callable[[], T]) -> T:
        """The value kept under ``key`` for this host's clients, made by ``make()`` the first time."""
        with self._guard:
            if key not in self._caches:
                self._caches[key] = make()
            return self._caches[key]  # type: ignore[return-value]

    def installed_targets(self) -> frozenset[str]:
        """Names of the installed iptables target extensions (probed once per host)."""
        return self.cache(("probe", "xtables targets"), find_targets)

    # -- lifetime --------------------------------------------------------------------

    def close(self) -> None:
        """End every worker thread and the maker, close every socket, drop the caches."""
        self.runner.close()
        self.netlink.close()
        with self._guard:
            maker, self._maker = self._maker, None
            self._caches.clear()
        if maker is not None:
            maker.stop()

    def __enter__(self) -> Host:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_default: list[Host] = []  # the default host, made on first use (the one module-level state)
_default_guard = threading.Lock()


def default_host() -> Host:
    """The host clients share when given none (made on first use, lives as long as the process)."""
    with _default_guard:
        if not _default:
            _default.append(Host())
        return _default[0]
