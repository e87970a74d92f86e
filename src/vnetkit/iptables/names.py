"""Tables, built-in chains and the rules for names, checked before any command runs.

Owns: validation of table names, chain names, policies and positions, so bad
input is a ``RuleError`` naming the valid choices instead of a tool error.
Pure: no I/O.
"""

from __future__ import annotations

from typing import Final

from vnetkit.errors import RuleError

__all__ = [
    "BUILTIN_CHAINS",
    "POLICIES",
    "TABLES",
    "check_chain",
    "check_policy",
    "check_position",
    "check_table",
    "is_builtin",
]

TABLES: Final = ("filter", "nat", "mangle", "raw", "security")

BUILTIN_CHAINS: Final[dict[str, tuple[str, ...]]] = {
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    "raw": ("PREROUTING", "OUTPUT"),
    "security": ("INPUT", "FORWARD", "OUTPUT"),
}

POLICIES: Final = ("ACCEPT", "DROP")

# Standard verdicts: a chain may not take one of these names.
_VERDICTS: Final = frozenset({"ACCEPT", "DROP", "QUEUE", "RETURN"})
_MAX_CHAIN: Final = 28  # XT_EXTENSION_MAXNAMELEN - 1


def check_table(table: str) -> str:
    """Return ``table`` if iptables knows it, else raise RuleError listing the tables."""
    if table not in TABLES:
        raise RuleError(f"unknown table {table!r}", choices=TABLES)
    return table


def is_builtin(table: str, chain: str) -> bool:
    """True if ``chain`` is a built-in chain of ``table``."""
    return chain in BUILTIN_CHAINS.get(table, ())


def check_chain(chain: str) -> str:
    """Return ``chain`` if iptables accepts it as a chain name, else raise RuleError."""
    problem = None
    if not chain:
        problem = "it is empty"
    elif len(chain) > _MAX_CHAIN:
        problem = f"it is {len(chain)} characters long (at most {_MAX_CHAIN})"
    elif any(ch.isspace() for ch in chain):
        problem = "it contains whitespace"
    elif chain[0] in "-!":
        problem = f"it starts with {chain[0]!r}"
    elif chain in _VERDICTS:
        problem = "it is the name of a standard target"
    if problem is not None:
        raise RuleError(f"invalid chain name {chain!r}: {problem}")
    return chain


def check_policy(policy: str) -> str:
    """Return ``policy`` if a built-in chain can take it, else raise RuleError."""
    if policy not in POLICIES:
        raise RuleError(f"invalid policy {policy!r}", choices=POLICIES)
    return policy


def check_position(position: int) -> int:
    """Return ``position`` if it is a valid 1-based rule number, else raise RuleError."""
    if isinstance(position, bool) or not isinstance(position, int) or position < 1:
        raise RuleError(f"invalid rule position {position!r}: rule numbers start at 1")
    return position
