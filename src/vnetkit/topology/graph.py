"""Pictures of a lab: Mermaid, Graphviz DOT and SVG, from the file or from the live lab.

Owns: drawing a ``GraphModel`` (``vnetkit.topology.graph_model``: built
from a ``LabSpec`` by ``from_spec``, or from the kernel's ``Inventory`` by
``from_live``, which marks what drifted) as text: ``to_mermaid`` (a
flowchart, one subgraph per node) and ``to_dot`` (one cluster per node),
each label escaped for its language; and ``to_svg``, which hands the DOT to
Graphviz's ``dot -Tsvg`` through a ``Runner``. Both languages draw the
same scene: interfaces with their addresses (bridges as hexagons), veth
pairs labelled with their two interface names, bridge ports, lower devices,
published ports as dashed arrows labelled ``8080/tcp -> 80``, NAT notes;
missing objects red and dashed, extra ones orange, drifted ones yellow, and
the state written in each label too. Pure but for ``to_svg``'s one
program. Does not own: reading the file or the kernel, or the CLI that
prints the result.

::

    spec = resolve(lab)
    print(to_mermaid(from_spec(spec)))
    svg = to_svg(from_live(spec, inventory(namespaces=spec.namespaces)), default_runner())
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from vnetkit.errors import CommandError, MissingTool
from vnetkit.exec.runner import Runner
from vnetkit.topology.graph_model import (
    End,
    GraphEdge,
    GraphInterface,
    GraphModel,
    GraphNode,
    GraphPublish,
    State,
    from_live,
    from_spec,
)

__all__ = [
    "GRAPHVIZ_PACKAGE",
    "End",
    "GraphEdge",
    "GraphInterface",
    "GraphModel",
    "GraphNode",
    "GraphPublish",
    "State",
    "dot_text",
    "from_live",
    "from_spec",
    "mermaid_text",
    "to_dot",
    "to_mermaid",
    "to_svg",
]

GRAPHVIZ_PACKAGE = "graphviz"
"""The Debian/Ubuntu package that provides ``dot``."""


# -- the scene both languages draw -------------------------------------------------------


def _title(model: GraphModel) -> str:
    return f"lab {model.lab}" + (" (live, compared with the file)" if model.source == "live" else "")


def _iface_lines(iface: GraphInterface) -> list[str]:
    lines = [iface.name + (f" ({iface.kind})" if iface.kind else ""), *iface.addresses]
    if iface.up is False:
        lines.append("down")
    lines += iface.notes
    if iface.state != "ok":
        lines.append(f"[{iface.state}]")
    return lines


def _node_lines(node: GraphNode) -> list[str]:
    lines = [node.name, node.netns, *node.notes]
    if node.state != "ok":
        lines.append(f"[{node.state}]")
    return lines


def _edge_label(edge: GraphEdge) -> str:
    if edge.kind == "veth":
        return f"{edge.a.iface} \N{LEFT RIGHT ARROW} {edge.b.iface}"
    return "on" if edge.kind == "lower" else ""


@dataclass(frozen=True, slots=True)
class _Box:
    """One thing drawn inside a cluster (or outside all, ``cluster`` -1): an interface, a port, a stand-in.

    ``key`` is unique and readable (``node:iface``, ``node:8080/tcp``,
    ``node:address:port``, ``node:[v6]:port``): interface names have no
    ``/`` or ``:``. ``kind`` picks the shape.
    """

    key: str
    cluster: int
    lines: tuple[str, ...]
    kind: str  # "bridge", "iface", "publish", "stand-in", "empty"
    state: State = "ok"


@dataclass(frozen=True, slots=True)
class _Line:
    """One edge drawn between two boxes (by key), in the direction the picture reads."""

    tail: str
    head: str
    kind: str  # "veth", "port", "lower", "publish"
    label: str
    state: State = "ok"


def _ranked(model: GraphModel) -> Iterator[GraphEdge]:
    """The edges, each pointing the way the picture reads (left to right).

    A bridge comes before its ports, and a veth end that is a bridge port
    before its peer, so a host's bridge sits left of its containers.
    """
    ports = {edge.a for edge in model.edges if edge.kind == "port"}
    for edge in model.edges:
        if edge.kind == "port" or (edge.kind == "veth" and edge.b in ports and edge.a not in ports):
            yield replace(edge, a=edge.b, b=edge.a)
        else:
            yield edge


@dataclass(frozen=True, slots=True)
class _Scene:
    boxes: tuple[_Box, ...]
    lines: tuple[_Line, ...]


def _scene(model: GraphModel) -> _Scene:
    """Every box and line of the picture, in a stable order (nodes, then edges, then published ports)."""
    index = {node.name: n for n, node in enumerate(model.nodes)}
    boxes: list[_Box] = []
    for n, node in enumerate(model.nodes):
        for iface in node.interfaces:
            kind = "bridge" if iface.kind == "bridge" else "iface"
            boxes.append(_Box(f"{node.name}:{iface.name}", n, tuple(_iface_lines(iface)), kind, iface.state))
        if not node.interfaces:
            boxes.append(_Box(f"{node.name}:", n, ("(no interfaces)",), "empty"))
    drawn = {box.key for box in boxes}
    lines = [
        _Line(f"{e.a}", f"{e.b}", e.kind, _edge_label(e), e.state)
        for e in _ranked(model)
        if str(e.a) in drawn and str(e.b) in drawn
    ]
    for pub in model.published:
        key = f"{pub.node}:{pub.host_port}/{pub.proto}"
        where = index.get(pub.node, -1)
        text = [f"published :{pub.host_port}/{pub.proto}"]
        if where < 0:
            text.insert(0, pub.node)
        if model.source == "live":
            text.append("(from the file, not read live)")
        if key not in drawn:  # one box per port, however many rules publish it
            boxes.append(_Box(key, where, tuple(text), "publish", pub.state))
            drawn.add(key)
        target = f"{pub.container}:{pub.iface}" if pub.iface is not None else ""
        if target not in drawn:
            place = f"[{pub.address}]:{pub.port}" if ":" in pub.address else f"{pub.address}:{pub.port}"
            target = f"{pub.container}:{place}"
            boxes.append(_Box(target, index.get(pub.container, -1), (place,), "stand-in"))
            drawn.add(target)
        lines.append(_Line(key, target, "publish", pub.label, pub.state))
    return _Scene(tuple(boxes), tuple(lines))


def _ids(scene: _Scene) -> dict[str, str]:
    """Short ids for Mermaid (letters, digits and ``_`` only, never a keyword), by box key."""
    return {box.key: f"b{n}" for n, box in enumerate(scene.boxes)}


# -- Mermaid ---------------------------------------------------------------------------

# Characters that would end a quoted label, start markup or split an edge label: entity codes.
_MERMAID_ESCAPES = {"#": "#35;", '"': "#quot;", "<": "#lt;", "`": "#96;", "|": "#124;", "\n": " "}
_MERMAID_SHAPES = {
    "bridge": ("{{", "}}"),
    "iface": ("[", "]"),
    "publish": ("([", "])"),
    "stand-in": ("[/", "/]"),
    "empty": ("[", "]"),
}
_MERMAID_CLASSES = {
    "missing": "stroke:#d00000,stroke-width:2px,stroke-dasharray:5 5,color:#d00000",
    "extra": "stroke:#ff8c00,stroke-width:2px,fill:#ffe4c4",
    "drifted": "stroke:#b8a000,stroke-width:2px,fill:#ffff66",
}
_MERMAID_LINKS = {
    "missing": "stroke:#d00000,stroke-width:2px,stroke-dasharray:5 5",
    "extra": "stroke:#ff8c00,stroke-width:2px",
    "drifted": "stroke:#b8a000,stroke-width:2px",
}
_MERMAID_ARROWS = {"veth": "---", "port": "---", "lower": "-.-", "publish": "-.->"}


def mermaid_text(text: str) -> str:
    """``text`` as a quoted Mermaid label: ``# " < ` |`` as entity codes, so any name is safe."""
    return '"' + "".join(_MERMAID_ESCAPES.get(c, c) for c in text) + '"'


def _mermaid_label(lines: tuple[str, ...] | list[str]) -> str:
    return '"' + "<br/>".join(mermaid_text(line)[1:-1] for line in lines) + '"'


def to_mermaid(model: GraphModel) -> str:
    """The lab as a Mermaid flowchart: a subgraph per node, bridges as hexagons, states as classes."""
    scene = _scene(model)
    ids = _ids(scene)
    out = ["flowchart LR", f"  %% {mermaid_text(_title(model))[1:-1]}"]
    classes: dict[str, list[str]] = {}

    def box(item: _Box, indent: str) -> None:
        opening, closing = _MERMAID_SHAPES[item.kind]
        out.append(f"{indent}{ids[item.key]}{opening}{_mermaid_label(item.lines)}{closing}")
        if item.state != "ok":
            classes.setdefault(item.state, []).append(ids[item.key])

    for n, node in enumerate(model.nodes):
        out.append(f"  subgraph ns{n}[{_mermaid_label(_node_lines(node))}]")
        for item in scene.boxes:
            if item.cluster == n:
                box(item, "    ")
        out.append("  end")
        if node.state != "ok":
            classes.setdefault(node.state, []).append(f"ns{n}")
    for item in scene.boxes:
        if item.cluster < 0:
            box(item, "  ")
    styles: dict[str, list[str]] = {}
    for number, line in enumerate(scene.lines):
        text = f"|{mermaid_text(line.label)}|" if line.label else ""
        out.append(f"  {ids[line.tail]} {_MERMAID_ARROWS[line.kind]}{text} {ids[line.head]}")
        if line.state != "ok":
            styles.setdefault(line.state, []).append(str(number))
    for state, style in _MERMAID_CLASSES.items():
        if state in classes:
            out.append(f"  classDef {state} {style}")
            out.append(f"  class {','.join(classes[state])} {state}")
        if state in styles:
            out.append(f"  linkStyle {','.join(styles[state])} {_MERMAID_LINKS[state]}")
    return "\n".join(out) + "\n"


# -- DOT -------------------------------------------------------------------------------

_DOT_STATES: dict[State, dict[str, str]] = {
    "ok": {},
    "missing": {"color": "red", "fontcolor": "red", "style": "dashed"},
    "extra": {"color": "darkorange", "fontcolor": "darkorange3", "penwidth": "2"},
    "drifted": {"color": "goldenrod", "fillcolor": "yellow", "style": "filled", "penwidth": "2"},
}
_DOT_SHAPES: dict[str, dict[str, str]] = {
    "bridge": {"shape": "hexagon"},
    "iface": {"style": "rounded"},
    "publish": {"shape": "cds"},
    "stand-in": {"shape": "plaintext"},
    "empty": {"shape": "plaintext"},
}
_DOT_LINES: dict[str, dict[str, str]] = {
    "veth": {"penwidth": "2"},
    "port": {"color": "gray40"},
    "lower": {"style": "dotted"},
    "publish": {"style": "dashed", "dir": "forward", "color": "blue", "fontcolor": "blue"},
}


def dot_text(text: str) -> str:
    """``text`` as a quoted DOT string: backslashes and quotes escaped, a newline as ``\\n``."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class _Quoted(str):
    """A DOT value already quoted and escaped (a label of several lines)."""

    __slots__ = ()


def _dot_label(lines: tuple[str, ...] | list[str]) -> _Quoted:
    return _Quoted('"' + "\\n".join(dot_text(line)[1:-1] for line in lines) + '"')


def _dot_attrs(attrs: dict[str, str], state: State) -> str:
    """``k="v", ...`` for a node or edge, with the look of its state added (styles combined)."""
    merged = dict(attrs)
    for key, value in _DOT_STATES[state].items():
        if key == "style" and "style" in merged:
            merged["style"] = f"{merged['style']},{value}"
        else:
            merged[key] = value
    return ", ".join(f"{k}={v if isinstance(v, _Quoted) else dot_text(v)}" for k, v in merged.items())


def to_dot(model: GraphModel) -> str:
    """The lab as a Graphviz digraph: a cluster per node, states as colours.

    Ids are readable, and are the ``<title>`` of each object in an SVG:
    ``cluster_<node>`` for a node, ``<node>:<interface>`` for an interface,
    ``<node>:<port>/<proto>`` for a published port.
    """
    scene = _scene(model)
    out = [
        f"digraph {dot_text(f'lab {model.lab}')} {{",
        f"  graph [rankdir=LR, fontname=Helvetica, labelloc=t, label={dot_text(_title(model))}];",
        "  node [shape=box, fontname=Helvetica, fontsize=10];",
        "  edge [fontname=Helvetica, fontsize=9, dir=none];",
    ]

    def box(item: _Box, indent: str) -> None:
        attrs = {"label": _dot_label(item.lines), **_DOT_SHAPES[item.kind]}
        out.append(f"{indent}{dot_text(item.key)} [{_dot_attrs(attrs, item.state)}];")

    for n, node in enumerate(model.nodes):
        out.append(f"  subgraph {dot_text(f'cluster_{node.name}')} {{")
        cluster = {"label": _dot_label(_node_lines(node)), "style": "rounded"}
        out.append(f"    graph [{_dot_attrs(cluster, node.state)}];")
        for item in scene.boxes:
            if item.cluster == n:
                box(item, "    ")
        out.append("  }")
    for item in scene.boxes:
        if item.cluster < 0:
            box(item, "  ")
    for line in scene.lines:
        attrs = dict(_DOT_LINES[line.kind])
        if line.label:
            attrs["label"] = line.label
        out.append(f"  {dot_text(line.tail)} -> {dot_text(line.head)} [{_dot_attrs(attrs, line.state)}];")
    out.append("}")
    return "\n".join(out) + "\n"


# -- SVG -------------------------------------------------------------------------------


def to_svg(model: GraphModel, runner: Runner) -> bytes:
    """The lab as an SVG drawn by Graphviz (``dot -Tsvg``, the DOT on its stdin, through ``runner``).

    ``MissingTool`` naming the graphviz package when ``dot`` is not
    installed; ``CommandError`` with its stderr when it refuses the input.
    """
    argv = ("dot", "-Tsvg")
    try:
        done = runner.run(argv, input=to_dot(model))
    except MissingTool as exc:
        raise MissingTool(
            f"drawing lab {model.lab} as SVG needs Graphviz's 'dot', which is not installed; install it: "
            f"apt-get install {GRAPHVIZ_PACKAGE} (or ask for the dot or mermaid format instead)",
            argv=argv,
        ) from exc
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()
        reason = said[-1] if said else f"exit status {done.returncode}"
        raise CommandError(
            f"drawing lab {model.lab} as SVG: dot refused the graph: {reason}",
            argv=argv,
            exit_status=done.returncode,
            stderr=done.stderr,
        )
    return done.stdout.encode("utf-8", "surrogateescape")
