"""What the CLI receives from outside: how to build an ``IPTables`` client, which netlink backend to use.

Owns: ``Env``, the object every click context carries (``ctx.obj``), and the
``IPTablesFactory`` signature. This is the CLI's one injection point: tests
pass ``Env(make_iptables=...)`` (or ``main(argv, runner=FakeRunner())``), or
a netlink backend and a ``Namespaces`` of their own for the link commands,
and nothing is monkeypatched. Does not own: parsing, printing or any verb.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol as TypingProtocol

from vnetkit.exec import Runner
from vnetkit.exec.netlink import NetlinkBackend
from vnetkit.iptables import BackendChoice, IPTables, Protocol
from vnetkit.links.namespaces import Namespaces

__all__ = ["Env", "IPTablesFactory"]


class IPTablesFactory(TypingProtocol):
    """Builds the client a command works with, from the options the user gave."""

    def __call__(
        self,
        protocol: Protocol,
        *,
        backend: BackendChoice,
        netns: str | None,
        timeout: float | None,
    ) -> IPTables: ...


@dataclass(frozen=True, slots=True)
class Env:
    """Everything a CLI invocation needs from its caller.

    ``netlink`` is the backend of the link, addr and route commands (None:
    the process-wide one); ``namespaces`` makes, deletes and enters
    namespaces for ``vnetkit ns`` (None: the real ones).
    """

    make_iptables: IPTablesFactory
    netlink: NetlinkBackend | None = None
    namespaces: Namespaces | None = None

    @classmethod
    def with_runner(cls, runner: Runner | None = None) -> Env:
        """An Env whose clients run through ``runner`` (None: the real system runner)."""

        def make(
            protocol: Protocol,
            *,
            backend: BackendChoice,
            netns: str | None,
            timeout: float | None,
        ) -> IPTables:
            return IPTables(protocol, backend=backend, netns=netns, timeout=timeout, runner=runner)

        return cls(make_iptables=make)
