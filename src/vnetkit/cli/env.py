"""What the CLI receives from outside: how to build an ``IPTables`` client.

Owns: ``Env``, the object every click context carries (``ctx.obj``), and the
``IPTablesFactory`` signature. This is the CLI's one injection point: tests
pass ``Env(make_iptables=...)`` (or ``main(argv, runner=FakeRunner())``) and
nothing is monkeypatched. Does not own: parsing, printing or any verb.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol as TypingProtocol

from vnetkit.exec import Runner
from vnetkit.iptables import BackendChoice, IPTables, Protocol

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
    """Everything a CLI invocation needs from its caller."""

    make_iptables: IPTablesFactory

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
