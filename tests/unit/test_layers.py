"""Import direction and system access, checked on the source of every module under src/vnetkit.

Each module is parsed with ``ast``; every import counts, also one inside a
function or under ``TYPE_CHECKING``. The layers, top to bottom (a module
imports its own package and anything strictly below it, never upward, and
not sideways unless an edge below says so):

    4  cli  cni  testing  demo  vnetkit (the package's own __init__)  __main__
    3  topology  trace
    2  iptables  links
    1  exec
    0  model  errors

Allowed sideways edges (``SIDEWAYS``):

- ``demo -> cli``: the demo shows the CLI as a user would run it;
- ``cli -> vnetkit``: the CLI prints ``vnetkit.__version__``;
- ``__main__ -> cli``: ``python -m vnetkit`` is the CLI;
- ``model -> errors``: the value types validate what they are given and raise
  ``ConfigError`` (errors.py itself imports only the standard library).

Not allowed, among others: ``cni -> cli`` or ``cli -> cni`` (``cni`` sits beside
``cli`` and may import ``topology`` and below), ``topology <-> trace``,
``iptables <-> links``, anything of vnetkit from ``errors``.

Beyond direction:

- ``model`` and ``errors`` import only the standard library (and ``model`` only
  ``errors`` of vnetkit, as above);
- ``pyroute2`` is imported only by the message layer: ``vnetkit.links.messages``,
  ``vnetkit.exec.netlink`` and ``vnetkit.exec.fake_netlink`` (which speaks the same
  wire format) (or modules under them, if they become packages);
- ``fcntl``, ``ctypes``, ``errno``, ``ioctl`` and ``/proc`` paths appear only
  under ``vnetkit/exec/``, the one place that touches the system.

A package that does not exist yet (``topology``, ``trace``, ``cni``) already
has its place; a new package or top-level module with no place in ``LAYERS``
fails until it gets one. ``KNOWN`` lists the files that break the system-access
rules today, each with exactly what it breaks; an entry that is no longer
needed fails too, so it is removed as soon as its file is clean.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

LAYERS: dict[str, int] = {
    "errors": 0,
    "model": 0,
    "exec": 1,
    "iptables": 2,
    "links": 2,
    "topology": 3,
    "trace": 3,
    "cli": 4,
    "cni": 4,
    "testing": 4,
    "demo": 4,
    "vnetkit": 4,  # src/vnetkit/__init__.py: the public names re-exported
    "__main__": 4,  # src/vnetkit/__main__.py
}
SIDEWAYS: frozenset[tuple[str, str]] = frozenset(
    {("demo", "cli"), ("cli", "vnetkit"), ("__main__", "cli"), ("model", "errors")}
)
STDLIB_ONLY = frozenset({"model", "errors"})
PYROUTE2_IMPORTERS = ("vnetkit.links.messages", "vnetkit.exec.netlink", "vnetkit.exec.fake_netlink")
SYSTEM_MODULES = frozenset({"fcntl", "ctypes", "errno"})
PROC_PATH = re.compile(r"^/proc(?:/|$)")

# Files that break a system-access rule today, and exactly which rules (the
# import or name: "pyroute2", "fcntl", "ctypes", "errno", "ioctl", "/proc"), e.g.
# "vnetkit/links/tuntap.py": frozenset({"fcntl", "errno", "ioctl"}), with a comment
# saying what will move it. None left: the links split moved the last ones
# (tuntap.py, client.py, inventory.py, namespaces.py) to exec/.
KNOWN: dict[str, frozenset[str]] = {}


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    rule: str  # "layer", "stdlib", or the system-access rule: "pyroute2", "fcntl", "/proc", ...
    text: str

    def __str__(self) -> str:
        return f"src/{self.path}:{self.line}: {self.text}"


def module_name(path: str) -> str:
    """``vnetkit/links/client.py`` -> ``vnetkit.links.client``; a package's ``__init__`` is the package."""
    parts = path.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str:
    """The layer a module of vnetkit belongs to: its package below ``vnetkit``, or the root itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "vnetkit"


def _is_submodule(name: str) -> bool:
    """Whether ``from vnetkit import name`` imports a module (else a name the package re-exports)."""
    return name in LAYERS or (SRC / "vnetkit" / name).is_dir() or (SRC / "vnetkit" / f"{name}.py").exists()


def _imports(tree: ast.Module, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Every module imported, anywhere in ``tree``, as (line, absolute dotted name).

    ``from P import N`` yields ``P.N`` when N is a package of vnetkit or a
    layer (``from vnetkit import cli``), else ``P``.
    """
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                if target == "vnetkit" and _is_submodule(alias.name):
                    found.append((node.lineno, f"vnetkit.{alias.name}"))
                else:
                    found.append((node.lineno, target))
    return list(dict.fromkeys(found))  # ``from P import a, b`` is one import of P


def _docstrings(tree: ast.Module) -> set[int]:
    """The ids of the docstring nodes (a docstring may mention /proc; code may not use it)."""
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _name(node: ast.AST) -> str | None:
    """The identifier a node names (``ioctl``, ``fcntl.ioctl``, ``from fcntl import ioctl``: ioctl)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.alias):
        return node.asname if node.name == "*" else node.name
    return None


def _direction(here: str, target: str) -> tuple[str, str] | None:
    """(rule, why) when a module of layer ``here`` may not import ``target``, else None."""
    top = target.partition(".")[0]
    if top != "vnetkit":
        allowed = here not in STDLIB_ONLY or top in sys.stdlib_module_names
        return None if allowed else ("stdlib", "stdlib only")
    there = layer_of(target)
    if there not in LAYERS:
        return "layer", "which is in no layer"
    if here == there or (here, there) in SIDEWAYS or LAYERS[there] < LAYERS[here]:
        return None
    if here in STDLIB_ONLY:
        return "stdlib", "stdlib only"
    upward = LAYERS[there] > LAYERS[here]
    return (
        "layer",
        f"{there} is {'above' if upward else 'beside'} {here}: {'upward' if upward else 'sideways'}",
    )


def check(path: str, source: str) -> list[Violation]:
    """Every rule of this file's docstring that ``source`` (the file at ``path``) breaks."""
    module = module_name(path)
    here = layer_of(module)
    if here not in LAYERS:
        return [Violation(path, 1, "layer", f"{module} is in no layer: give {here!r} a place in LAYERS")]
    tree = ast.parse(source, filename=path)
    found: list[Violation] = []
    for line, target in _imports(tree, module, path.endswith("/__init__.py")):
        refused = _direction(here, target)
        if refused:
            found.append(Violation(path, line, refused[0], f"{module} imports {target}: {refused[1]}"))
        top = target.partition(".")[0]
        if top == "pyroute2" and not any(
            module == owner or module.startswith(owner + ".") for owner in PYROUTE2_IMPORTERS
        ):
            found.append(
                Violation(
                    path,
                    line,
                    "pyroute2",
                    f"{module} imports {target}: only {' and '.join(PYROUTE2_IMPORTERS)} may",
                )
            )
        if top in SYSTEM_MODULES and here != "exec":
            found.append(Violation(path, line, top, f"{module} imports {target}: system access is exec/'s"))
    if here != "exec":
        found.extend(_system_names(path, module, tree))
    return sorted(found, key=lambda v: v.line)


def _system_names(path: str, module: str, tree: ast.Module) -> list[Violation]:
    """Uses of ``ioctl`` and ``/proc`` paths in code (docstrings may mention them)."""
    found: list[Violation] = []
    docstrings = _docstrings(tree)
    for node in ast.walk(tree):
        if _name(node) == "ioctl":
            line = getattr(node, "lineno", 1)
            found.append(Violation(path, line, "ioctl", f"{module} calls ioctl: system access is exec/'s"))
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and PROC_PATH.match(node.value)
        ):
            found.append(
                Violation(path, node.lineno, "/proc", f"{module} reads {node.value!r}: procfs is exec/'s")
            )
    return found


def _tree() -> list[Violation]:
    found: list[Violation] = []
    for file in sorted((SRC / "vnetkit").rglob("*.py")):
        path = file.relative_to(SRC).as_posix()
        found.extend(check(path, file.read_text(encoding="utf-8")))
    return found


def test_imports_point_downward_and_system_access_stays_in_exec() -> None:
    unexpected = [v for v in _tree() if v.rule not in KNOWN.get(v.path, frozenset())]
    assert not unexpected, "\n".join(map(str, unexpected))


def test_every_known_exception_is_still_needed() -> None:
    broken = {(v.path, v.rule) for v in _tree()}
    stale = sorted(
        f"src/{path}: no longer breaks {rule!r}; remove it from KNOWN"
        for path, rules in KNOWN.items()
        for rule in rules
        if (path, rule) not in broken
    )
    assert not stale, "\n".join(stale)


def test_every_package_has_a_layer() -> None:
    packages = {p.name for p in (SRC / "vnetkit").iterdir() if (p / "__init__.py").exists()}
    modules = {p.stem for p in (SRC / "vnetkit").glob("*.py")} - {"__init__"}
    assert packages | modules <= set(LAYERS)


# The checker itself, on modules that do not exist (yet): the rules hold for them too.
OK = [
    ("vnetkit/topology/plan.py", "from vnetkit.links import Links\nfrom vnetkit.iptables import IPTables"),
    ("vnetkit/trace/engine.py", "from vnetkit.model import Rule\nfrom vnetkit.exec import Runner"),
    ("vnetkit/cni/__init__.py", "from vnetkit.topology import Lab\nfrom vnetkit.errors import VnetkitError"),
    ("vnetkit/cli/lab.py", "def f():\n    from vnetkit.topology import plan"),
    ("vnetkit/model/address.py", "import ipaddress\nfrom vnetkit.errors import ConfigError"),
    ("vnetkit/model/route.py", "from . import address\nfrom .address import Address"),
    ("vnetkit/exec/netlink/socket.py", "import pyroute2\nimport errno, fcntl"),
    ("vnetkit/exec/procfs.py", "PATH = '/proc/sys/net'\nimport ctypes"),
    ("vnetkit/links/plan.py", "'''Reads nothing from /proc.'''\nMSG = 'a /proc file'"),
    ("vnetkit/demo/firewall.py", "from vnetkit.cli.main import main"),
]
BAD = [
    ("vnetkit/exec/host.py", "from vnetkit.links import Links", ("layer",), "upward"),
    ("vnetkit/exec/host.py", "def f():\n    import vnetkit.iptables.caps", ("layer",), "upward"),
    ("vnetkit/model/rule.py", "from vnetkit.exec import Runner", ("stdlib",), "stdlib only"),
    ("vnetkit/model/rule.py", "import click", ("stdlib",), "stdlib only"),
    ("vnetkit/model/rule.py", "import pyroute2", ("stdlib", "pyroute2"), "stdlib only"),
    ("vnetkit/errors.py", "from vnetkit.model import Rule", ("stdlib",), "stdlib only"),
    ("vnetkit/topology/plan.py", "from vnetkit.cli import main", ("layer",), "upward"),
    ("vnetkit/topology/plan.py", "from vnetkit.trace import engine", ("layer",), "sideways"),
    ("vnetkit/trace/engine.py", "from ..topology import Lab", ("layer",), "sideways"),
    ("vnetkit/cni/plugin.py", "from vnetkit.cli.main import main", ("layer",), "sideways"),
    ("vnetkit/cli/main.py", "from vnetkit import cni", ("layer",), "sideways"),
    ("vnetkit/iptables/client.py", "from vnetkit.links import Links", ("layer",), "sideways"),
    ("vnetkit/links/client.py", "from vnetkit import IPTables", ("layer",), "upward"),
    ("vnetkit/links/client.py", "from vnetkit.testing import scratch_netns", ("layer",), "upward"),
    ("vnetkit/links/client.py", "from pyroute2.netlink import nlmsg", ("pyroute2",), "only"),
    ("vnetkit/links/tuntap.py", "import fcntl", ("fcntl",), "exec/"),
    ("vnetkit/links/tuntap.py", "from fcntl import ioctl", ("fcntl", "ioctl"), "fcntl"),
    ("vnetkit/iptables/caps.py", "import errno", ("errno",), "exec/"),
    ("vnetkit/links/namespaces.py", "SELF = f'/proc/{1}/ns/net'", ("/proc",), "procfs"),
    ("vnetkit/labs.py", "", ("layer",), "no layer"),
    ("vnetkit/cli/main.py", "from vnetkit.labs import Lab", ("layer",), "no layer"),
]


@pytest.mark.parametrize(("path", "source"), OK)
def test_allowed(path: str, source: str) -> None:
    assert check(path, source) == []


@pytest.mark.parametrize(("path", "source", "rules", "says"), BAD)
def test_refused_with_the_module_and_the_import(
    path: str, source: str, rules: tuple[str, ...], says: str
) -> None:
    found = check(path, source)
    assert tuple(v.rule for v in found) == rules, found
    assert says in str(found[0])
    assert str(found[0]).startswith(f"src/{path}:")
    assert module_name(path) in str(found[0])
