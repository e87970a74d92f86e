"""``vnetkit trace simulate|lint``: explain what a namespace's netfilter and routing do to one packet.

Owns: the command's syntax, reading the snapshot (live from ``--netns``,
nothing sent; or offline from saved files: ``--rules`` iptables-save,
``--rules6``, ``--addr`` ``ip -j addr``, ``--routes`` ``ip -j route show
table all``, ``--ip-rules`` ``ip -j rule``, ``--ipsets`` ``ipset save``,
``--sysctls`` ``sysctl`` output) and printing the answer (a text tree, or
``--json``). Exit 0 with an answer, 2 for bad input (a malformed packet
spec shows the grammar). ``lint FILE`` lists what ``vnetkit.trace.lint``
finds in a saved ruleset. Does not own: the engine (``vnetkit.trace``).
"""

from __future__ import annotations

import json

import click

from vnetkit.errors import ConfigError, ParseError
from vnetkit.iptables.savefile import parse_save
from vnetkit.trace.engine import Engine
from vnetkit.trace.lint import lint
from vnetkit.trace.packet import parse_packet
from vnetkit.trace.render import render_text
from vnetkit.trace.snapshot import Snapshot
from vnetkit.trace.snapshot_take import take

__all__ = ["trace"]

_FILE = click.Path(dir_okay=False)


@click.group()
def trace() -> None:
    """Explain what happens to a packet (from a live namespace or saved files)."""


def _read(path: str | None, what: str) -> str | None:
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} file {path}: {exc.strerror}") from None


_SOURCES = {  # the source a Snapshot.load parser names -> the option that gave its text
    "iptables-save": "rules",
    "ip6tables-save": "rules6",
    "ip -j addr": "addr",
    "ip -j route": "routes",
    "ip -j rule": "ip_rules",
    "ipset save": "ipsets",
    "sysctl": "sysctls",
    "sysctls": "sysctls",
}


def _offline(files: dict[str, str | None]) -> Snapshot:
    texts = {key: _read(path, key) for key, path in files.items()}
    if texts["routes"] is not None and texts["addr"] is None:
        raise ConfigError("--routes needs --addr (ip -j addr) to know the interfaces the routes name")
    try:
        return Snapshot.load(
            rules4=texts["rules"],
            rules6=texts["rules6"],
            addr_json=texts["addr"],
            route_json=texts["routes"],
            rule_json=texts["ip_rules"],
            ipsets=texts["ipsets"],
            sysctls=texts["sysctls"],
        )
    except ParseError as exc:
        option = _SOURCES.get(exc.source)
        path = files.get(option or "")
        where = f"{path}: " if path else ""
        if exc.line is not None and f"line {exc.line}" not in exc.message:
            where += f"line {exc.line}: "
        raise ParseError(f"{where}{exc.message}", source=path or exc.source, line=exc.line) from None


@trace.command()
@click.option("--packet", "spec", required=True, help="PROTO SRC[:SPORT] -> DST[:DPORT] [in IFACE] [...]")
@click.option("--netns", help="Take the snapshot live from this namespace (nothing is sent).")
@click.option("--rules", type=_FILE, help="iptables-save output (offline).")
@click.option("--rules6", type=_FILE, help="ip6tables-save output (offline).")
@click.option("--addr", type=_FILE, help="ip -j addr output (offline).")
@click.option("--routes", type=_FILE, help="ip -j route show table all output (offline; needs --addr).")
@click.option("--ip-rules", type=_FILE, help="ip -j rule output (offline).")
@click.option("--ipsets", type=_FILE, help="ipset save output (offline).")
@click.option("--sysctls", type=_FILE, help="sysctl output (offline), e.g. net.ipv4.ip_forward = 1.")
@click.option("--from-local", is_flag=True, help="The packet is made by a local process (OUTPUT path).")
@click.option(
    "--state",
    type=click.Choice(["new", "established", "related", "invalid"]),
    help="Conntrack state to ask about (default: new, a connection's first packet).",
)
@click.option("--matched-only", is_flag=True, help="Leave rules that did not match out of the steps.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout.")
def simulate(
    *,
    spec: str,
    netns: str | None,
    rules: str | None,
    rules6: str | None,
    addr: str | None,
    routes: str | None,
    ip_rules: str | None,
    ipsets: str | None,
    sysctls: str | None,
    from_local: bool,
    state: str | None,
    matched_only: bool,
    as_json: bool,
) -> None:
    """Simulate one packet: its path through the hooks and tables, NAT, routing and its fate.

    Either --netns NS (live) or the saved files (--rules and the others).
    """
    packet = parse_packet(spec, from_local=from_local, state=state)  # type: ignore[arg-type]
    files = {"rules": rules, "rules6": rules6, "addr": addr, "routes": routes}
    files |= {"ip_rules": ip_rules, "ipsets": ipsets, "sysctls": sysctls}
    if netns is not None:
        if any(files.values()):
            raise ConfigError("give either --netns (live) or saved files (--rules, --addr...), not both")
        snapshot = take(netns)
    elif not any(files.values()):
        raise ConfigError("say where to read from: --netns NS, or --rules FILE (and --addr, --routes...)")
    else:
        snapshot = _offline(files)
    if snapshot.ruleset(packet.family) is None:
        which = "--rules6 (ip6tables-save)" if packet.family == "ipv6" else "--rules (iptables-save)"
        raise ConfigError(f"an {packet.family} packet needs the {packet.family} rules: give {which}")
    answer = Engine(snapshot).simulate(packet, misses=not matched_only)
    if as_json:
        click.echo(json.dumps(answer.to_json(), indent=2))
    else:
        click.echo(render_text(answer))


@trace.command("lint")
@click.argument("file", type=_FILE)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout.")
def lint_cmd(file: str, as_json: bool) -> int:
    """List rules that can never match, chains nothing reaches and jumps to missing chains in FILE.

    FILE is iptables-save (or ip6tables-save) output. Exit 0 when nothing is found, 1 otherwise.
    """
    findings = lint(parse_save(_read(file, "ruleset") or "", source=file))
    if as_json:
        click.echo(json.dumps([f.to_json() for f in findings], indent=2))
    elif not findings:
        click.echo(f"{file}: nothing found")
    else:
        for finding in findings:
            where = f"{finding.table} {finding.chain}" + (f" #{finding.position}" if finding.position else "")
            click.echo(f"{finding.kind:15} {where}: {finding.message}")
    return 1 if findings else 0
