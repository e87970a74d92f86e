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
from typing import cast

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


@trace.command("live")
@click.option("--netns", required=True, help="The namespace whose packets to trace.")
@click.option("-p", "--protocol", help="Trace only this protocol (tcp, udp, icmp...).")
@click.option("-s", "--source", help="Trace only packets from this address or prefix.")
@click.option("-d", "--destination", help="Trace only packets to this address or prefix.")
@click.option("--sport", type=int, help="Trace only this source port (needs -p tcp or udp).")
@click.option("--dport", type=int, help="Trace only this destination port (needs -p tcp or udp).")
@click.option("-i", "--in-interface", help="Trace only packets arriving on this interface.")
@click.option("--count", type=int, help="Stop after this many packets.")
@click.option("--timeout", type=float, help="Stop after this many seconds.")
@click.option(
    "--backend",
    type=click.Choice(["auto", "nft", "legacy"]),
    default="auto",
    show_default=True,
    help="The iptables backend whose rules to trace (legacy is not supported).",
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout (at the end).")
def live(
    *,
    netns: str,
    protocol: str | None,
    source: str | None,
    destination: str | None,
    sport: int | None,
    dport: int | None,
    in_interface: str | None,
    count: int | None,
    timeout: float | None,
    backend: str,
    as_json: bool,
) -> None:
    """Trace real packets in NETNS: each matching packet's rules (by position) and its fate.

    Adds a TRACE rule (comment vnetkit:trace) at the top of raw PREROUTING and
    OUTPUT for the filter given, reads the kernel's trace and removes the rule
    when done (--count, --timeout or Ctrl-C). iptables-nft backend only.
    """
    import contextlib  # noqa: PLC0415 - only this command needs them
    import signal  # noqa: PLC0415

    from vnetkit.iptables.client import BackendChoice  # noqa: PLC0415
    from vnetkit.trace.live import TraceFilter, live_trace  # noqa: PLC0415

    match = TraceFilter(
        protocol=protocol,
        source=source,
        destination=destination,
        sport=sport,
        dport=dport,
        in_interface=in_interface,
    )
    answers = []
    traced = 0

    def terminated(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)  # unwinds, so the TRACE rules are removed

    signal.signal(signal.SIGTERM, terminated)
    chosen = cast("BackendChoice", backend)  # click.Choice allows only these three
    with contextlib.closing(
        live_trace(netns, match, count=count, timeout=timeout, backend=chosen)
    ) as packets:
        for answer in packets:
            traced += 1
            if as_json:
                answers.append(answer.to_json())
            else:
                click.echo(render_text(answer) + "\n")
    if as_json:
        click.echo(json.dumps({"netns": netns, "packets": answers}, indent=2))
    elif not traced:
        click.echo(f"no matching packet traced in netns {netns}", err=True)
