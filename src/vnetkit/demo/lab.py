"""The labs part of ``make demo``: the Docker bridge recipe, up, checked, drawn, reached from outside, down.

Owns: that walkthrough, shown as the CLI a user types (``vnetkit lab ...``,
run in-process through ``vnetkit.cli.main``), on ``examples/docker-bridge.yaml``
copied with a lab name of its own, and the lab's removal (also after a
failure). Everything lives in the lab's namespaces ``vnk-<lab>-<node>``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from rich.console import Console

from vnetkit.cli.main import main as cli
from vnetkit.errors import OperationError

__all__ = ["LAB", "cleanup", "run"]

LAB = "vnkdemo"
_FILE = f"""# vnetkit demo: Docker's default bridge network, as `docker run -p 8080:80` makes it
name: {LAB}
recipe: docker-bridge
bridge: {{name: docker0, subnet: 172.17.0.0/16}}
containers: [c1, c2, c3]
publish:
  - {{container: c1, port: 80, host_port: 8080, proto: tcp}}
checks:
  - {{from: c1, to: outside, proto: icmp, expect: pass}}
  - {{from: c1, to: c2, proto: icmp, expect: pass}}
  - {{from: outside, to: "host:8080", proto: tcp, expect: pass}}
  - {{from: outside, to: c1, proto: icmp, expect: fail}}
"""


def _step(console: Console, argv: list[str]) -> int:
    console.print(f"\n[bold cyan]$ vnetkit {' '.join(argv)}[/]")
    return cli(argv)


def run(console: Console) -> None:
    """Up, plan again (nothing), check, graph, reach the published port, status."""
    folder = Path(tempfile.mkdtemp(prefix="vnetkit-demo-"))
    path = folder / "docker-bridge.yaml"
    path.write_text(_FILE)
    console.rule("[bold]labs: a Docker bridge network from one file")
    for argv, must in (
        (["lab", "up", str(path)], 0),
        (["lab", "plan", str(path)], 0),
        (["lab", "check", LAB], 0),
        (["lab", "check", LAB, "--all-pairs"], None),
        (["lab", "graph", LAB, "--format", "mermaid"], 0),
        (["lab", "graph", LAB, "--format", "svg", "-o", str(folder / "lab.svg")], 0),
        (["lab", "exec", LAB, "host", "--", "iptables", "-t", "nat", "-S", "DOCKER"], 0),
        (["lab", "status", LAB], 0),
    ):
        status = _step(console, argv)
        if must is not None and status != must:
            raise OperationError(f"'vnetkit {' '.join(argv)}' exited {status}")
    console.print(f"(the picture is in {folder / 'lab.svg'})")


def cleanup(console: Console) -> None:
    """Take the lab down (safe when it never came up)."""
    _step(console, ["lab", "down", LAB])
