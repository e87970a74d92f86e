"""The firewall part of ``make demo``: a client, a firewall host, rules that count.

Two namespaces, ``vnk-demo-client`` and ``vnk-demo-fw``, joined by a veth
pair made with its peer directly in the target namespace. The firewall side
gets a custom chain with a jump, a few rules and a DROP policy; the client
sends pings and TCP connection attempts so counters move; then it prints
``vnetkit ipt list --counters``, syncs a desired state twice (the second
changes nothing), changes it and re-syncs the difference, saves, wipes and
restores the ruleset. ``cleanup`` removes the namespaces it made; nothing
touches the root namespace. The order of the whole demo is in
``vnetkit.demo``.
"""

from __future__ import annotations

import socket

from rich.console import Console

from vnetkit.cli.main import main as cli_main
from vnetkit.errors import VnetkitError
from vnetkit.exec import default_runner
from vnetkit.exec import netns as nsops
from vnetkit.iptables import IPTables, desired_from_save, render_save
from vnetkit.links import Links, Veth

__all__ = ["NAMESPACES", "cleanup", "console", "run", "step"]

CLIENT = "vnk-demo-client"
FIREWALL = "vnk-demo-fw"
NAMESPACES = (CLIENT, FIREWALL)
CLIENT_IP = "10.99.0.1"
FIREWALL_IP = "10.99.0.2"

# soft_wrap: a line longer than the terminal runs on instead of breaking mid-sentence.
console = Console(highlight=False, soft_wrap=True)


def step(text: str) -> None:
    console.print(f"\n[bold cyan]==>[/] [bold]{text}[/]")


def sh(netns: str, *argv: str) -> str:
    """Run a program inside ``netns`` and show it, like a terminal session would."""
    console.print(f"[dim]{netns}#[/] {' '.join(argv)}")
    done = default_runner().run(argv, netns=netns)
    if done.returncode != 0:
        raise VnetkitError(f"{' '.join(argv)} in {netns} failed: {done.stderr.strip()}")
    return done.stdout


def try_connect(port: int) -> str:
    """From the client: open a TCP connection to the firewall host, say what happened."""

    def attempt() -> str:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            try:
                sock.connect((FIREWALL_IP, port))
            except ConnectionRefusedError:
                return "refused (reached the host; nothing listens there)"
            except TimeoutError:
                return "timed out (dropped by the firewall)"
        return "connected"

    return default_runner().call_in(CLIENT, attempt)


def build_network() -> None:
    step("the firewall lab: a client and a firewall host joined by a veth pair")
    for name in (CLIENT, FIREWALL):
        nsops.create(name)
        console.print(f"[dim]created network namespace[/] {name}")
    Links(CLIENT).add(Veth(name="eth0", peer="eth0", peer_netns=FIREWALL))
    for name, address in ((CLIENT, CLIENT_IP), (FIREWALL, FIREWALL_IP)):
        Links(name).add_address("eth0", f"{address}/24")
        console.print(f"{name}: eth0 {address}/24", highlight=False)


def build_firewall() -> IPTables:
    step(f"a firewall on {FIREWALL}, through the Python API")
    ipt = IPTables(netns=FIREWALL)
    console.print(f"[dim]{ipt.binary} {'.'.join(map(str, ipt.version))}, backend {ipt.backend}[/]")
    code = f"""\
ipt = IPTables(netns="{FIREWALL}")
ipt.new_chain("filter", "VNK-DEMO-IN")
ipt.append("filter", "VNK-DEMO-IN", "-p", "icmp", "--icmp-type", "echo-request",
           "-m", "comment", "--comment", "allow ping", "-j", "ACCEPT")
ipt.append("filter", "VNK-DEMO-IN", "-p", "tcp", "--dport", "80", "-j", "ACCEPT")
ipt.append("filter", "VNK-DEMO-IN", "-p", "tcp", "--dport", "23",
           "-m", "comment", "--comment", "no telnet", "-j", "DROP")
ipt.append("filter", "INPUT", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT")
ipt.append("filter", "INPUT", "-i", "eth0", "-j", "VNK-DEMO-IN")
ipt.append_unique("filter", "INPUT", "-i", "eth0", "-j", "VNK-DEMO-IN")   # already there: no-op
ipt.change_policy("filter", "INPUT", "DROP")"""
    console.print(code, style="green", markup=False, soft_wrap=True)
    ipt.new_chain("filter", "VNK-DEMO-IN")
    ipt.append(
        "filter", "VNK-DEMO-IN",
        "-p", "icmp", "--icmp-type", "echo-request",
        "-m", "comment", "--comment", "allow ping", "-j", "ACCEPT",
    )  # fmt: skip
    ipt.append("filter", "VNK-DEMO-IN", "-p", "tcp", "--dport", "80", "-j", "ACCEPT")
    ipt.append(
        "filter", "VNK-DEMO-IN",
        "-p", "tcp", "--dport", "23", "-m", "comment", "--comment", "no telnet", "-j", "DROP",
    )  # fmt: skip
    ipt.append("filter", "INPUT", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT")
    ipt.append("filter", "INPUT", "-i", "eth0", "-j", "VNK-DEMO-IN")
    ipt.append_unique("filter", "INPUT", "-i", "eth0", "-j", "VNK-DEMO-IN")
    ipt.change_policy("filter", "INPUT", "DROP")
    return ipt


def send_traffic() -> None:
    step(f"traffic from {CLIENT} so the counters move")
    out = sh(CLIENT, "ping", "-c", "3", "-i", "0.2", "-W", "1", FIREWALL_IP)
    console.print(out.strip().splitlines()[-2] if out.strip() else "(no output)")
    for port in (80, 23, 22):
        console.print(f"tcp to {FIREWALL_IP}:{port}: {try_connect(port)}")


def show(ipt: IPTables) -> None:
    step(f"vnetkit ipt list --counters --netns {FIREWALL}")
    cli_main(["ipt", "--netns", FIREWALL, "list", "--counters"])
    step("the custom chain's counters, structured (ipt.structured_stats)")
    for stat in ipt.structured_stats("filter", "VNK-DEMO-IN"):
        console.print(
            f"{stat.packets:>3} packets {stat.bytes:>5} bytes  {stat.target or '-':<6} {stat.options}",
            markup=False,
        )


DESIRED_V1 = """\
*filter
:INPUT ACCEPT [0:0]
:VNK-SVC-WEB - [0:0]
-A INPUT -p tcp -j VNK-SVC-WEB
-A VNK-SVC-WEB -p tcp --dport 80 -j ACCEPT
-A VNK-SVC-WEB -p tcp --dport 443 -j ACCEPT
-A VNK-SVC-WEB -s 10.99.0.0/24 -p tcp --dport 22 -m comment --comment "lab ssh" -j ACCEPT
COMMIT
"""


def desired_state(ipt: IPTables) -> None:
    step("desired state: the chains we own (prefix VNK-SVC-), synced (the kube-proxy / Neutron pattern)")
    desired = desired_from_save(DESIRED_V1, prefix="VNK-SVC-")
    console.print(DESIRED_V1.rstrip(), style="green", markup=False, soft_wrap=True)
    for round_ in ("first sync", "second sync (nothing to do)"):
        plan = ipt.sync(desired)
        console.print(f"[bold]{round_}[/]: {len(plan.changes)} change(s)")
        for change in plan.changes:
            console.print(f"  {change.action:<7} {change.rule or 'chain ' + change.chain}", markup=False)

    step("change the desired state: 443 becomes 8443, ssh goes; re-sync applies only the difference")
    changed = DESIRED_V1.replace("--dport 443", "--dport 8443")
    changed = "\n".join(line for line in changed.splitlines() if "lab ssh" not in line) + "\n"
    plan = ipt.sync(desired_from_save(changed, prefix="VNK-SVC-"))
    for change in plan.changes:
        console.print(f"  {change.action:<7} {change.rule}", markup=False)
    console.print("(the port-80 rule was not touched: its counters are kept)")

    step("save, wipe, restore: the standard iptables-save format")
    saved = ipt.save(counters=True)
    text = render_save(saved)
    console.print(f"vnetkit ipt save  -> {len(text.splitlines())} lines; first rules:", markup=False)
    for line in [line for line in text.splitlines() if line.startswith("[")][:4]:
        console.print(f"  {line}", markup=False)
    with ipt.transaction() as tx:  # one atomic iptables-restore
        tx.change_policy("filter", "INPUT", "ACCEPT")
        tx.flush_chain("filter", "INPUT")
        tx.flush_chain("filter", "VNK-SVC-WEB")
        tx.flush_chain("filter", "VNK-DEMO-IN")
    console.print(f"after a wipe: {sum(len(r) - 1 for r in ipt.list_table('filter').values())} rules")
    ipt.restore(saved, counters=True)
    console.print(f"after restore: {sum(len(r) - 1 for r in ipt.list_table('filter').values())} rules")


def run() -> None:
    """The firewall lab; raises VnetkitError on failure (the caller cleans up)."""
    build_network()
    ipt = build_firewall()
    send_traffic()
    show(ipt)
    desired_state(ipt)


def cleanup() -> None:
    """Delete the firewall lab's namespaces (the veth pair goes with them)."""
    for name in NAMESPACES:
        if nsops.exists(name):
            nsops.delete(name)
            console.print(f"[dim]deleted network namespace[/] {name}")
