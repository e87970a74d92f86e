"""Labs: a whole virtual network declared in one file (or Python objects), planned, applied, checked, drawn.

The pipeline, each step its own module: ``load`` (YAML -> typed model,
errors with their YAML path) -> ``resolve`` (defaults, recipe expansion,
addresses, names -> ``LabSpec``) -> ``observe`` (what exists, from the
kernel) -> ``plan`` (pure: desired vs observed -> printable actions) ->
``apply`` (in order, undo on failure) ; ``lab`` puts them together as
``up``/``down``/``status``/``labs``; ``check`` runs a lab's expectations,
``graph`` draws it. Everything a lab makes lives in its namespaces
``vnk-<lab>-<node>``; the ledger under ``/run/vnetkit/labs/`` names them.
"""

from __future__ import annotations

from vnetkit.topology.lab import down, labs, plan, status, up
from vnetkit.topology.ledger import Ledgers
from vnetkit.topology.load import load, load_data, schema
from vnetkit.topology.model import Lab
from vnetkit.topology.resolve import resolve
from vnetkit.topology.spec import LabSpec

__all__ = [
    "Lab",
    "LabSpec",
    "Ledgers",
    "down",
    "labs",
    "load",
    "load_data",
    "plan",
    "resolve",
    "schema",
    "status",
    "up",
]
