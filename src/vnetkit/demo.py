"""``make demo``: a small firewall built through the API, in sandbox namespaces.

Two namespaces, ``vnk-demo-client`` and ``vnk-demo-fw``, joined by a veth pair
made with its peer directly in the target namespace. The firewall side gets a
custom chain with a jump, a few rules and a DROP policy; the client sends
pings and TCP connection attempts so counters move; then the demo prints
``vnetkit ipt list --counters`` and removes everything it made. Nothing
touches the root namespace. Run: ``python -m vnetkit.demo``.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Sequence

from rich.console import Console

from vnetkit.cli.main import main as cli_main
from vnetkit.errors import VnetkitError
from vnetkit.exec import default_runner
from vnetkit.exec import netns as nsops
from vnetkit.iptables import IPTables

CLIENT = "vnk-demo-client"
FIREWALL = "vnk-demo-fw"
CLIENT_IP = "10.99.0.1"
FIREWALL_IP = "10.99.0.2"

console = Console(highlight=False)


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
    step("two sandbox namespaces joined by a veth pair")
    for name in (CLIENT, FIREWALL):
        nsops.create(name)
        console.print(f"[dim]created network namespace[/] {name}")
    sh(CLIENT, "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", FIREWALL)
    for name, address in ((CLIENT, CLIENT_IP), (FIREWALL, FIREWALL_IP)):
        sh(name, "ip", "address", "add", f"{address}/24", "dev", "eth0")
        sh(name, "ip", "link", "set", "eth0", "up")


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


def cleanup() -> None:
    step("removing everything the demo made")
    for name in (CLIENT, FIREWALL):
        if nsops.exists(name):
            nsops.delete(name)
            console.print(f"[dim]deleted network namespace[/] {name}")


def main(argv: Sequence[str] | None = None) -> int:
    del argv
    for name in (CLIENT, FIREWALL):
        if nsops.exists(name):
            console.print(f"vnetkit demo: namespace {name} exists (a demo still running?); remove it first")
            return 1
    try:
        build_network()
        ipt = build_firewall()
        send_traffic()
        show(ipt)
    except VnetkitError as exc:
        console.print(f"[red]vnetkit demo: {exc}[/]")
        return 1
    finally:
        cleanup()
    console.print("\n[bold green]done[/]: the root namespace was never touched.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
