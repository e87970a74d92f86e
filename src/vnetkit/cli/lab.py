"""``vnetkit lab up|plan|down|ls|status|check|graph|exec|schema``: labs from the command line.

Owns: the syntax of those commands, finding a lab from ``NAME|FILE`` (a
file path, or the name of a lab that is up: the file its ledger names),
and printing (tables and progress for people, ``--json`` for programs).
Does not own: what they do (``vnetkit.topology``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from vnetkit.cli import render
from vnetkit.errors import ConfigError, NotFound, OperationError
from vnetkit.exec import netns as _netns
from vnetkit.exec.host import Host
from vnetkit.links import Namespaces, inventory
from vnetkit.topology import check, graph, graph_model
from vnetkit.topology import lab as labs_api
from vnetkit.topology.ledger import Ledgers
from vnetkit.topology.load import load, schema
from vnetkit.topology.resolve import resolve
from vnetkit.topology.spec import LabSpec, netns_name

__all__ = ["lab"]

_JSON = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout.")
_BACKEND = click.option(
    "--backend",
    type=click.Choice(["auto", "nft", "legacy"]),
    default="auto",
    show_default=True,
    help="iptables backend for the lab's rules.",
)


def _ledgers() -> Ledgers:
    directory = os.environ.get("VNETKIT_LAB_DIR")
    return Ledgers(directory) if directory else Ledgers()


def _read(path: str) -> LabSpec:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise ConfigError(f"cannot read lab file {path}: {exc.strerror}") from None
    return resolve(load(text, source=path))


def _find(ref: str) -> LabSpec:
    """The lab ``ref`` names: a file path, or a lab that is up (the file its ledger names)."""
    if os.path.isfile(ref):
        return _read(ref)
    ledger = _ledgers().load(ref)
    if ledger is None:
        raise NotFound(f"no lab file {ref!r} and no lab named {ref!r} is up (see 'vnetkit lab ls')")
    if ledger.source and os.path.isfile(ledger.source):
        return _read(ledger.source)
    raise NotFound(
        f"lab {ref} is up, but the file it came from ({ledger.source or 'none'}) is gone: give FILE"
    )


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int, int, str], None] | None]:
    if not enabled:
        yield None
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("applying", total=None)

        def report(done: int, total: int, text: str) -> None:
            bar.update(task, completed=done, total=total, description=text[:60])

        yield report


@click.group()
def lab() -> None:
    """Declare a whole virtual network in one YAML file: plan, up, check, graph, down.

    Every node is a namespace vnk-<lab>-<node>; nothing touches the root namespace.
    """


@lab.command("plan")
@click.argument("file", type=click.Path(dir_okay=False))
@_JSON
@_BACKEND
def plan_cmd(file: str, as_json: bool, backend: str) -> None:
    """Show what 'up FILE' would change (recipes shown expanded); changes nothing."""
    spec = _read(file)
    with Host() as host:
        plan, _ = labs_api.plan(spec, host=host, ledgers=_ledgers(), backend=backend)
    if as_json:
        render.emit_json({"lab": spec.name, "recipe": spec.recipe, "actions": plan.to_json()})
        return
    out = Console()
    if not plan:
        out.print(f"lab {spec.name}: up to date, nothing to do")
        return
    for line in plan.lines():
        click.echo(line)
    out.print(f"[bold]{len(plan.lines())} change(s)[/bold]")


@lab.command("up")
@click.argument("file", type=click.Path(dir_okay=False))
@_JSON
@_BACKEND
def up_cmd(file: str, as_json: bool, backend: str) -> None:
    """Create the lab of FILE, or change it to match FILE (only what differs)."""
    spec = _read(file)
    with Host() as host, _progress(not as_json and sys.stderr.isatty()) as progress:
        result = labs_api.up(
            spec,
            host=host,
            ledgers=_ledgers(),
            source=os.path.abspath(file),
            backend=backend,
            progress=progress,
        )
    if as_json:
        render.emit_json(
            {
                "lab": spec.name,
                "changed": bool(result.plan),
                "actions": result.plan.to_json(),
                "namespaces": spec.namespaces,
            }
        )
        return
    out = Console()
    if not result.plan:
        out.print(f"lab {spec.name}: up to date, nothing changed")
    else:
        for line in result.plan.lines():
            click.echo(line)
        out.print(f"lab {spec.name}: up ({len(result.plan.lines())} change(s), {len(spec.nodes)} node(s))")


@lab.command("down")
@click.argument("ref", metavar="NAME|FILE")
@_JSON
def down_cmd(ref: str, as_json: bool) -> None:
    """Remove everything the lab made (its namespaces and ledger); safe to run twice."""
    spec = _read(ref) if os.path.isfile(ref) else None
    name = spec.name if spec is not None else ref
    with Host() as host:
        deleted = labs_api.down(name, host=host, ledgers=_ledgers(), spec=spec)
    if as_json:
        render.emit_json({"lab": name, "deleted": deleted})
    else:
        Console().print(f"lab {name}: down ({len(deleted)} namespace(s) deleted)")


@lab.command("ls")
@_JSON
def ls_cmd(as_json: bool) -> None:
    """List the labs that are up (have a ledger)."""
    found = labs_api.labs(_ledgers())
    if as_json:
        render.emit_json([info.to_json() for info in found])
        return
    table = Table(title="labs")
    for column in ("name", "state", "nodes", "recipe", "file"):
        table.add_column(column)
    for info in found:
        table.add_row(
            info.name,
            info.state
            if info.existing == len(info.namespaces)
            else f"{info.state} ({info.existing} present)",
            str(len(info.namespaces)),
            info.recipe or "",
            info.source or "",
        )
    Console().print(table)


@lab.command("status")
@click.argument("ref", metavar="NAME|FILE")
@_JSON
@_BACKEND
def status_cmd(ref: str, as_json: bool, backend: str) -> int:
    """Each node and interface of the lab: ok, missing, drifted or extra; exit 1 unless all ok."""
    spec = _find(ref)
    with Host() as host:
        status = labs_api.status(spec, host=host, ledgers=_ledgers(), backend=backend)
    if as_json:
        render.emit_json(status.to_json())
    else:
        table = Table(title=f"lab {spec.name}")
        for column in ("node", "namespace", "state", "interfaces"):
            table.add_column(column)
        colour = {"ok": "green", "missing": "red", "drifted": "yellow", "extra": "magenta"}
        for node in status.nodes:
            ifaces = ", ".join(
                f"{i['name']} {' '.join(i['addresses'])}".strip()
                + ("" if i["state"] == "ok" else f" [{i['state']}]")
                for i in node.interfaces
            )
            table.add_row(node.name, node.netns, f"[{colour[node.state]}]{node.state}[/]", ifaces)
        console = Console()
        console.print(table)
        for line in status.plan.lines():
            console.print(f"pending: {line}", highlight=False, markup=False)
    return 0 if status.ok else 1


@lab.command("check")
@click.argument("ref", metavar="NAME|FILE")
@click.option(
    "--all-pairs", is_flag=True, help="Ping every node from every node (instead of the file's checks)."
)
@click.option("--timeout", type=float, default=2.0, show_default=True, help="Seconds each check may take.")
@_JSON
def check_cmd(ref: str, all_pairs: bool, timeout: float, as_json: bool) -> int:
    """Run the lab's checks (or --all-pairs) in parallel; exit 0 when every expectation holds."""
    spec = _find(ref)
    missing = [n.netns for n in spec.nodes if not _netns.exists(n.netns)]
    if missing:
        raise NotFound(
            f"lab {spec.name} is not up ({', '.join(missing[:3])} missing): run 'vnetkit lab up' first"
        )
    checks = check.all_pairs(spec) if all_pairs else list(spec.checks)
    if not checks:
        raise ConfigError(f"lab {spec.name} declares no checks (add 'checks:' or use --all-pairs)")
    with Host() as host:
        report = check.run_checks(spec, checks, host=host, timeout=timeout)
    for warning in report.warnings:
        render.diagnostic(f"warning: {warning}")
    if as_json:
        render.emit_json(report.to_json())
    else:
        console = Console()
        console.print(report.matrix() if all_pairs else report.table())
        failed = sum(1 for r in report.results if not r.ok)
        console.print(f"{len(checks) - failed}/{len(checks)} as expected")
    return 0 if report.ok else 1


@lab.command("graph")
@click.argument("ref", metavar="FILE|NAME")
@click.option(
    "--format", "fmt", type=click.Choice(["mermaid", "dot", "svg"]), default="mermaid", show_default=True
)
@click.option(
    "--live", is_flag=True, help="Draw what exists (marking missing, extra, drifted), not the file."
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
def graph_cmd(ref: str, fmt: str, live: bool, output: str | None) -> None:
    """Draw the lab: nodes, bridges, links with interface names and addresses, published ports."""
    spec = _find(ref)
    with Host() as host:
        if live:
            present = [ns for ns in spec.namespaces if _netns.exists(ns)]
            inv = inventory(namespaces=present, include_root=False, host=host)
            model = graph_model.from_live(spec, inv)
        else:
            model = graph_model.from_spec(spec)
        if fmt == "svg":
            data: bytes = graph.to_svg(model, host.runner)
        else:
            text = graph.to_mermaid(model) if fmt == "mermaid" else graph.to_dot(model)
            data = text.encode()
    if output:
        try:
            with open(output, "wb") as handle:
                handle.write(data)
        except OSError as exc:
            raise OperationError(f"write {output}: {exc.strerror}") from None
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


@lab.command(
    "exec",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    epilog="Example: vnetkit lab exec web c1 -- ip -br addr",
)
@click.argument("name")
@click.argument("node")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
def exec_cmd(ctx: click.Context, name: str, node: str, command: tuple[str, ...]) -> int:
    """Run COMMAND in NODE of lab NAME (its namespace vnk-NAME-NODE); exit with its status."""
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise click.UsageError("Missing COMMAND after --.", ctx=ctx)
    ledger = _ledgers().load(name)
    if ledger is None:
        raise NotFound(f"no lab named {name!r} is up (see 'vnetkit lab ls')")
    if node not in ledger.nodes:
        raise ConfigError(f"lab {name} has no node {node!r}; nodes: {', '.join(sorted(ledger.nodes))}")
    netns = ledger.nodes[node] or netns_name(name, node)
    spaces = Namespaces()
    spaces.ensure_resolv_conf(netns)
    return spaces.exec(netns, command)


@lab.command("schema")
@click.option("--recipe", help="Only this recipe's form (default: every form a lab file may take).")
def schema_cmd(recipe: str | None) -> None:
    """Print the JSON Schema of lab files (for editors: completion and checking)."""
    data: dict[str, Any] = schema(recipe)
    click.echo(json.dumps(data, indent=2))
