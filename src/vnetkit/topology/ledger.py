"""A lab's ledger: the file under ``/run/vnetkit/labs/`` that says what the lab owns.

Owns: the ledger's shape (``Ledger``), reading, writing (atomically; an
apply writes it *before* it creates anything, so a lab killed mid-``up``
is still removed completely by ``down``), listing and removing ledgers,
and the per-lab lock that keeps two ``up``/``down`` of one lab apart.
Every object a lab makes lives in the lab's own namespaces, so the
namespaces are what must never be forgotten; the ledger also keeps, per
node and family, what the last apply owned of the rules (``Owned``), so a
rule removed from the file is removed from the kernel. Does not own: the
file system calls (``vnetkit.exec.files``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from vnetkit.errors import ParseError
from vnetkit.exec import files
from vnetkit.topology.firewall import Owned

__all__ = ["DEFAULT_DIR", "Ledger", "Ledgers"]

DEFAULT_DIR = "/run/vnetkit/labs"
_VERSION = 1


@dataclass
class Ledger:
    """What a lab owns: its namespaces (node -> namespace), its rules, where it came from."""

    lab: str
    nodes: dict[str, str] = field(default_factory=dict)
    rules: dict[str, dict[str, Owned]] = field(default_factory=dict)
    source: str | None = None
    recipe: str | None = None
    state: str = "applying"

    def to_json(self) -> str:
        """The ledger as JSON text."""
        return json.dumps(
            {
                "version": _VERSION,
                "lab": self.lab,
                "state": self.state,
                "source": self.source,
                "recipe": self.recipe,
                "nodes": self.nodes,
                "rules": {
                    node: {family: owned.to_json() for family, owned in fams.items()}
                    for node, fams in self.rules.items()
                },
            },
            indent=1,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str, *, source: str) -> Ledger:
        """A ledger from its JSON text; ``ParseError`` naming ``source`` if it is not one."""
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("version") != _VERSION:
                raise ValueError("not a vnetkit lab ledger of this version")
            rules = {
                str(node): {str(fam): Owned.from_json(owned) for fam, owned in fams.items()}
                for node, fams in dict(data.get("rules") or {}).items()
            }
            return cls(
                lab=str(data["lab"]),
                nodes={str(k): str(v) for k, v in dict(data.get("nodes") or {}).items()},
                rules=rules,
                source=data.get("source"),
                recipe=data.get("recipe"),
                state=str(data.get("state", "applying")),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ParseError(f"{source}: {exc}", source=source) from None


class Ledgers:
    """The ledgers of one directory (``/run/vnetkit/labs`` unless told otherwise)."""

    def __init__(self, directory: str = DEFAULT_DIR) -> None:
        self.directory = directory

    def path(self, lab: str) -> str:
        """Where the ledger of ``lab`` lives."""
        return os.path.join(self.directory, f"{lab}.json")

    def load(self, lab: str) -> Ledger | None:
        """The ledger of ``lab``; None if the lab has none (is not up)."""
        path = self.path(lab)
        text = files.read_text(path)
        return None if text is None else Ledger.from_json(text, source=path)

    def save(self, ledger: Ledger) -> None:
        """Write ``ledger`` (atomically: a reader sees the old one or the new one)."""
        files.write_atomic(self.path(ledger.lab), ledger.to_json() + "\n")

    def remove(self, lab: str) -> bool:
        """Delete the ledger of ``lab`` and its lock file (and the directory, once empty); False if there
        was no ledger."""
        files.remove(os.path.join(self.directory, f"{lab}.lock"))
        removed = files.remove(self.path(lab))
        files.remove_empty_dir(self.directory)
        return removed

    def labs(self) -> list[str]:
        """The names of the labs that have a ledger here."""
        return files.names_in(self.directory, ".json")

    @contextmanager
    def lock(self, lab: str) -> Iterator[None]:
        """Hold the lab's lock: one up/down of a lab at a time, across processes."""
        with files.locked(os.path.join(self.directory, f"{lab}.lock")):
            yield
