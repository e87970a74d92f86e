"""Frozen value types shared by every capability. Standard library only, no I/O."""

from vnetkit.model.rule import Counters, Match, Option, Rule, Target
from vnetkit.model.ruleset import Chain, Entry, Ruleset, Table

__all__ = ["Chain", "Counters", "Entry", "Match", "Option", "Rule", "Ruleset", "Table", "Target"]
