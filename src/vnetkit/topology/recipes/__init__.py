"""Recipes: short named forms of a lab file, each expanding into the low-level ``Lab``.

Owns: the table of recipes by their ``recipe:`` value (``RECIPES``: the
pydantic model a file of that recipe validates against) and ``expand_any``
(a validated recipe model, whichever it is, as a ``Lab``). Each recipe
lives in its own module with its model and its pure ``expand``. Does not
own: reading the file or choosing between the low-level form and a recipe
(``load``), nor anything after expansion.
"""

from __future__ import annotations

from pydantic import BaseModel

from vnetkit.topology.model import Lab
from vnetkit.topology.recipes import docker_bridge
from vnetkit.topology.recipes.docker_bridge import DockerBridgeLab

__all__ = ["RECIPES", "DockerBridgeLab", "expand_any"]

RECIPES: dict[str, type[BaseModel]] = {
    "docker-bridge": DockerBridgeLab,
}


def expand_any(data_model: BaseModel) -> Lab:
    """Expand a validated recipe model (one of ``RECIPES``' models) into the low-level lab.

    A ``Lab`` (the low-level form) comes back as it is. Raises ``TypeError``
    for anything else: a programming error, since the loader validates with
    a model of ``RECIPES`` first.
    """
    if isinstance(data_model, Lab):
        return data_model
    if isinstance(data_model, DockerBridgeLab):
        return docker_bridge.expand(data_model)
    known = ", ".join(f"{name} ({cls.__name__})" for name, cls in RECIPES.items())
    raise TypeError(f"not a recipe model: {type(data_model).__name__}; the recipes are {known}")
