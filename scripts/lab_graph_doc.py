"""Draw docs/lab-graph.svg, the README's picture of a lab, from examples/docker-bridge.yaml.

Loads and resolves the example (no kernel, no root: only Graphviz's ``dot``
runs) and draws it with ``vnetkit.topology.graph``, as ``vnetkit lab graph
examples/docker-bridge.yaml --format svg`` would. Re-run after changing
the example or the renderer; ``--check`` only says whether the file is
up to date (exit 1 if not):

    .venv/bin/python scripts/lab_graph_doc.py [--check]
"""

from __future__ import annotations

import sys
from pathlib import Path

from vnetkit.exec import default_runner
from vnetkit.topology import load, resolve
from vnetkit.topology.graph import from_spec, to_svg

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "docker-bridge.yaml"
PICTURE = REPO / "docs" / "lab-graph.svg"


def draw() -> bytes:
    """The example lab, resolved and drawn as SVG."""
    spec = resolve(load(EXAMPLE.read_text(), source=str(EXAMPLE.relative_to(REPO))))
    return to_svg(from_spec(spec), default_runner())


def main(argv: list[str]) -> int:
    svg = draw()
    if argv == ["--check"]:
        current = PICTURE.read_bytes() if PICTURE.exists() else b""
        if current != svg:
            print(f"{PICTURE.relative_to(REPO)} is out of date: run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    PICTURE.parent.mkdir(parents=True, exist_ok=True)
    PICTURE.write_bytes(svg)
    print(f"wrote {PICTURE.relative_to(REPO)} ({len(svg)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
