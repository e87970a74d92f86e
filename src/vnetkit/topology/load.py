"""Load a lab: YAML text (or a dict) -> the typed model, every error with its YAML path.

Owns: reading YAML safely, choosing the model by ``recipe:`` (none: the
low-level ``Lab``; ``docker-bridge``: the recipe's model), and turning
pydantic's errors into one ``TopologyError`` whose message names the path
(``containers[2]: name 'c 1' has whitespace``) and, for an unknown key or
a wrong choice, the valid ones. Pure (the CLI reads the file). Does not
own: checks across the lab (``resolve``).
"""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping, Sequence
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from vnetkit.errors import TopologyError
from vnetkit.topology.model import Lab
from vnetkit.topology.recipes import RECIPES

__all__ = ["load", "load_data", "schema"]

_ITEM = re.compile(r"(\[\d+\](?:\.\w+)?):? (.*)", re.DOTALL)
_TAGS = {"veth", "bridge", "vxlan", "macvlan", "macvtap", "ipvlan", "vlan", "masquerade", "snat", "dnat"}


class _Loader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (YAML keeps the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if isinstance(key, typing.Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{key!r} is given twice (lines {seen[key]} and {line})", key_node.start_mark
                )
            if isinstance(key, typing.Hashable):
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def load(text: str, *, source: str = "lab file") -> BaseModel:
    """The lab model of YAML ``text``; ``TopologyError`` naming ``source`` and the path on bad input."""
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise TopologyError(f"{source}:{where}: not valid YAML: {problem}", location=where.strip()) from None
    return load_data(data, source=source)


def load_data(data: object, *, source: str = "lab") -> BaseModel:
    """The lab model of already-parsed data (a dict, as YAML or JSON gives)."""
    if not isinstance(data, Mapping):
        raise TopologyError(f"{source}: a lab is a mapping with at least 'name' (got {_type(data)})")
    recipe = data.get("recipe")
    if recipe is None:
        model: type[BaseModel] = Lab
    elif isinstance(recipe, str) and recipe in RECIPES:
        model = RECIPES[recipe]
    else:
        raise TopologyError(
            f"{source}: recipe: unknown recipe {recipe!r}; recipes: {', '.join(sorted(RECIPES))}",
            location="recipe",
        )
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise _error(exc, model, source) from None


def schema(recipe: str | None = None) -> dict[str, Any]:
    """The JSON Schema of lab files: one of the low-level form or any recipe, or of one of them."""
    if recipe is not None:
        return RECIPES[recipe].model_json_schema() if recipe in RECIPES else Lab.model_json_schema()
    forms = [Lab.model_json_schema(), *(m.model_json_schema() for m in RECIPES.values())]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "vnetkit lab",
        "description": "A vnetkit lab file: the low-level form, or a recipe (recipe: ...)",
        "anyOf": forms,
    }


def _type(value: object) -> str:
    return "nothing" if value is None else type(value).__name__


def _path(loc: Sequence[int | str]) -> str:
    out = ""
    previous: int | str | None = None
    for item in loc:
        if isinstance(item, int):
            out += f"[{item}]"
        elif item in _TAGS and (isinstance(previous, int) or (previous is not None and out.count(".") >= 2)):
            # a union's tag pydantic puts in the path (interfaces.eth0.bridge.stp): not a key
            previous = item
            continue
        elif item.startswith("function-"):
            previous = item
            continue
        else:
            out += f".{item}" if out else str(item)
        previous = item
    return out or "(top)"


def _fields(model: type[BaseModel], loc: Sequence[int | str]) -> list[str] | None:
    """The keys valid where ``loc`` points (for an unknown-key error), if it can be told."""
    current: Any = model
    skip = False  # the next item is a key of a mapping (a node's or an interface's name)
    for item in loc[:-1]:
        if skip or isinstance(item, int):
            skip = False
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(item))
        if field is None:
            field = next((f for f in current.model_fields.values() if f.alias == item), None)
        if field is None:
            continue  # a union's tag in the path
        skip = typing.get_origin(field.annotation) is dict
        current = _inner(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(f.alias or name for name, f in current.model_fields.items())
    return None


def _inner(annotation: Any) -> Any:
    """The model inside list[...], dict[str, ...], X | None, Annotated[...] (the first one found)."""
    args = typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in reversed(args):
        found = _inner(arg)
        if found is not None:
            return found
    return None


def _error(exc: ValidationError, model: type[BaseModel], source: str) -> TopologyError:
    problems = []
    first_path = ""
    for err in exc.errors():
        loc = err.get("loc", ())
        path = _path(loc)
        first_path = first_path or path
        kind = err.get("type", "")
        msg = str(err.get("msg", ""))
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        item = _ITEM.match(msg)
        if item:  # a validator of a whole list named the item: "[2] name 'c 1' has whitespace"
            path, msg = f"{path}{item.group(1)}", item.group(2)
            first_path = first_path if first_path != _path(loc) else path
        if kind == "extra_forbidden":
            valid = _fields(model, loc)
            key = loc[-1] if loc else "?"
            parent = _path(loc[:-1])
            where = f"{parent}: " if loc[:-1] else ""
            msg = f"unknown key {key!r}" + (f"; valid keys: {', '.join(valid)}" if valid else "")
            problems.append(f"{where}{msg}")
            continue
        if kind == "missing":
            problems.append(f"{path}: missing (required)")
            continue
        problems.append(f"{path}: {msg}")
    text = "; ".join(dict.fromkeys(problems))
    return TopologyError(f"{source}: {text}", location=first_path)
