"""What the engine answers about one packet: ``Answer``, its ``Step``s and ``Hit``s, and its JSON form.

Owns: the answer's fields and ``Answer.to_json`` (the shape scripts rely
on: ``disposition``, ``out_interface``, ``final`` {src, dst, sport, dport},
``hits`` [{table, chain, position}] with 0 for a chain's policy,
``counters`` (the deltas this packet would cause), ``steps``, and for an
undetermined answer ``undetermined_at`` with ``continuations``
``if_matched``/``if_not_matched``). Pure. Does not own: computing it
(``engine``) or the text form (``render``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["DISPOSITIONS", "Answer", "Hit", "Step"]

#: A locally generated packet leaving the host (``--from-local``) is ``forwarded`` too (its reason says
#: "sent out of ..."): scripts see only these five.
DISPOSITIONS = ("delivered", "forwarded", "dropped", "rejected", "undetermined")


@dataclass(frozen=True, slots=True)
class Hit:
    """A rule that matched (``position`` as ``iptables -L --line-numbers`` counts) or a policy (0)."""

    table: str
    chain: str
    position: int

    def to_json(self) -> dict[str, Any]:
        """``{table, chain, position}``."""
        return {"table": self.table, "chain": self.chain, "position": self.position}


@dataclass(frozen=True, slots=True)
class Step:
    """One thing that happened: ``kind`` is ``rule``, ``policy``, ``route``, ``nat``, ``mark`` or ``note``.

    For a rule: ``hook``, ``table``, ``chain``, ``position``, ``text`` (the
    rule as ``iptables -S`` writes it), ``matched`` (None: undetermined) and
    ``action`` (what followed: ``ACCEPT``, ``jump DOCKER``, ``continue``...).
    For others, ``text`` says what happened.
    """

    kind: str
    hook: str
    text: str
    table: str = ""
    chain: str = ""
    position: int = 0
    matched: bool | None = True
    action: str = ""

    def to_json(self) -> dict[str, Any]:
        """All fields, as JSON values."""
        return {
            "kind": self.kind,
            "hook": self.hook,
            "table": self.table,
            "chain": self.chain,
            "position": self.position,
            "text": self.text,
            "matched": self.matched,
            "action": self.action,
        }


@dataclass(frozen=True, slots=True)
class Answer:
    """The packet's path and fate.

    ``reason`` says why it ended so (``dropped by filter FORWARD #3``, ``policy
    DROP of filter INPUT``...). ``final`` holds the addresses and ports after
    every NAT rewrite. ``length`` is the bytes each hit counts.
    """

    packet: str
    disposition: str
    reason: str
    final: dict[str, Any]
    steps: tuple[Step, ...] = ()
    hits: tuple[Hit, ...] = ()
    out_interface: str | None = None
    length: int = 0
    undetermined_at: Step | None = None
    continuations: dict[str, Answer] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The JSON form (see the module docstring)."""
        data: dict[str, Any] = {
            "packet": self.packet,
            "disposition": self.disposition,
            "reason": self.reason,
            "out_interface": self.out_interface,
            "final": dict(self.final),
            "hits": [hit.to_json() for hit in self.hits],
            "counters": [{**hit.to_json(), "packets": 1, "bytes": self.length} for hit in self.hits],
            "steps": [step.to_json() for step in self.steps],
        }
        if self.undetermined_at is not None:
            data["undetermined_at"] = self.undetermined_at.to_json()
            data["continuations"] = {key: value.to_json() for key, value in self.continuations.items()}
        return data
