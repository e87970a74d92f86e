"""``take``: a ``Snapshot`` of a live namespace, in a constant number of calls.

Owns: which reads make a snapshot and turning their answers into its
values. Through the existing clients only: ``IPTables(...).save_text()``
for the rulesets, ``Links`` for links, addresses and routes (netlink), and
the host's runner for ``ip -j rule``, ``ipset save`` and ``sysctl``. Does
not own: processes, sockets or namespaces (``vnetkit.exec``), the parsers
(``snapshot_load``), the value (``snapshot``).
"""

from __future__ import annotations

from collections.abc import Sequence

from vnetkit.errors import CommandError, MissingTool
from vnetkit.exec.classify import first_error_line
from vnetkit.exec.host import Host, default_host
from vnetkit.exec.netlink import Netlink
from vnetkit.exec.runner import Completed, Runner
from vnetkit.iptables import BackendChoice, IPTables
from vnetkit.iptables.savefile import parse_save
from vnetkit.links import Links
from vnetkit.model.records import Link
from vnetkit.trace.snapshot import PATH_SYSCTLS, PER_INTERFACE_SYSCTLS, Snapshot
from vnetkit.trace.snapshot_load import parse_ipset_save, parse_rule_json, parse_sysctl_text
from vnetkit.trace.snapshot_values import Interface

__all__ = ["sysctl_argv", "take"]


def sysctl_argv(interfaces: Sequence[str]) -> tuple[str, ...]:
    """The one ``sysctl`` call that reads the path sysctls of a namespace with these interfaces.

    Keys are given with ``/`` separators so that an interface called
    ``eth0.100`` is one part; ``-e`` skips keys the namespace lacks.
    """
    keys = [key.replace(".", "/") for key in PATH_SYSCTLS]
    keys += [f"net/ipv4/conf/{name}/{key}" for name in interfaces for key in PER_INTERFACE_SYSCTLS]
    return ("sysctl", "-e", *keys)


def _run(runner: Runner, argv: tuple[str, ...], netns: str | None, what: str) -> str:
    done: Completed = runner.run(argv, netns=netns)
    if done.returncode != 0:
        where = f" in netns {netns}" if netns else ""
        raise CommandError(
            f"{what}{where}: {' '.join(argv[:3])} exited {done.returncode}: "
            f"{first_error_line(done.stderr) or 'no message'}"
        )
    return done.stdout


def _interface(link: Link) -> Interface:
    return Interface(
        name=link.name,
        index=link.index,
        addresses=link.interfaces,
        mac=link.mac,
        up=bool(link.up),
        kind=link.kind or None,
        master=link.master,
    )


def take(
    netns: str | None = None,
    *,
    host: Host | None = None,
    backend: BackendChoice = "auto",
    runner: Runner | None = None,
    netlink: Netlink | None = None,
) -> Snapshot:
    """Read ``netns`` (None: the caller's namespace) into a ``Snapshot``, without changing anything.

    The same number of calls whatever the namespace holds: six programs
    (``iptables-save``, ``ip6tables-save``, ``ip -j rule``, ``ip -j -6
    rule``, ``ipset save``, one ``sysctl`` naming every key) and five netlink
    dumps (``Links.state``'s three, then all routes of every table and the
    link names they refer to), besides the iptables clients' version probes
    (once per host; each time with a ``runner`` of the caller's).
    ``runner``/``netlink`` replace the host's (tests count calls through
    them). A namespace without ``ipset`` installed has no ipsets. Errors:
    ``OperationError`` subclasses from the clients, ``CommandError`` when
    ``ip``, ``ipset`` or ``sysctl`` fails.
    """
    host = host if host is not None else default_host()
    run = runner if runner is not None else host.runner
    rules4 = IPTables("ipv4", backend=backend, netns=netns, host=host, runner=run).save_text()
    rules6 = IPTables("ipv6", backend=backend, netns=netns, host=host, runner=run).save_text()
    links = Links(netns, host=host, backend=netlink)
    state = links.state()
    routes = links.route_list()
    interfaces = tuple(_interface(link) for link in state.links)
    policy = parse_rule_json(_run(run, ("ip", "-j", "rule", "show"), netns, "read policy rules"))
    policy += parse_rule_json(
        _run(run, ("ip", "-j", "-6", "rule", "show"), netns, "read IPv6 policy rules"),
        family="ipv6",
        source="ip -j -6 rule",
    )
    try:
        ipsets = parse_ipset_save(_run(run, ("ipset", "save"), netns, "read ipsets"))
    except MissingTool:
        ipsets = {}
    sysctls = parse_sysctl_text(
        _run(run, sysctl_argv([link.name for link in state.links]), netns, "read sysctls")
    )
    return Snapshot(
        rules4=parse_save(rules4, source="iptables-save"),
        rules6=parse_save(rules6, source="ip6tables-save"),
        interfaces=interfaces,
        routes=tuple(routes),
        rules=policy,
        sysctls=sysctls,
        ipsets=ipsets,
    )
