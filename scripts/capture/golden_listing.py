"""Capture real iptables output into tests/golden/, from both backends, IPv4 and IPv6.

Applies one listing ruleset per family in a scratch namespace (never the root
one), then saves what ``-S``, ``-v -S`` and ``-L -v -n -x`` print for it. The
unit tests parse these files, so the parsers are checked against what the
real tools print without needing root. Re-run after an iptables upgrade:

    .venv/bin/python scripts/capture/golden_listing.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from vnetkit.exec import default_runner
from vnetkit.iptables import IPTables
from vnetkit.testing import scratch_netns

GOLDEN = Path(__file__).resolve().parents[2] / "tests" / "golden" / "listing"

RULES = {
    "ipv4": [
        ("!", "-s", "192.0.2.0/24", "-i", "eth0", "-p", "tcp", "--dport", "22", "-j", "ACCEPT"),
        ("-s", "198.51.100.7", "!", "-o", "eth1", "-j", "DROP"),
        ("-d", "203.0.113.0/25",),
        ("-p", "udp", "-m", "multiport", "--dports", "53,123",
         "-m", "comment", "--comment", "two  words", "-j", "RETURN"),
        ("-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"),
        ("-p", "icmp", "--icmp-type", "echo-request", "-m", "limit", "--limit", "5/sec", "-j", "ACCEPT"),
        ("-m", "comment", "--comment", 'say "hi" \\ there', "-j", "LOG", "--log-prefix", "vnk: "),
        ("-f", "-j", "DROP"),
        ("-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"),
        ("-j", "VNK-OTHER"),
    ],
    "ipv6": [
        ("!", "-s", "2001:db8::/32", "-i", "eth0", "-p", "tcp", "--dport", "22", "-j", "ACCEPT"),
        ("-s", "2001:db8:1::7", "!", "-o", "eth1", "-j", "DROP"),
        ("-d", "2001:db8:2::/48",),
        ("-p", "udp", "-m", "multiport", "--dports", "53,123",
         "-m", "comment", "--comment", "two  words", "-j", "RETURN"),
        ("-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"),
        ("-p", "ipv6-icmp", "--icmpv6-type", "echo-request", "-j", "ACCEPT"),
        ("-m", "comment", "--comment", 'say "hi" \\ there', "-j", "LOG", "--log-prefix", "vnk: "),
        ("-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"),
        ("-j", "VNK-OTHER"),
    ],
}  # fmt: skip


def capture(netns: str, backend: str, protocol: str) -> None:
    ipt = IPTables(protocol, backend=backend, netns=netns)  # type: ignore[arg-type]
    ipt.new_chain("filter", "VNK-OTHER")
    ipt.new_chain("filter", "VNK-LIST")
    for spec in RULES[protocol]:
        ipt.append("filter", "VNK-LIST", *spec)
    ipt.append("filter", "INPUT", "-j", "VNK-LIST")
    runner = default_runner()
    for suffix, args in (
        ("S", ("-S", "VNK-LIST")),
        ("vS", ("-v", "-S", "VNK-LIST")),
        ("L", ("-L", "VNK-LIST", "-v", "-n", "-x")),
    ):
        done = runner.run((ipt.binary, "-t", "filter", *args), netns=netns)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(done.argv)}: {done.stderr.strip()}")
        path = GOLDEN / f"{backend}-{protocol}.{suffix}.txt"
        path.write_text(done.stdout)
        print(f"wrote {path.relative_to(GOLDEN.parent.parent.parent)}")
    ipt.delete("filter", "INPUT", "-j", "VNK-LIST")
    ipt.clear_and_delete_chain("filter", "VNK-LIST")
    ipt.clear_and_delete_chain("filter", "VNK-OTHER")


def main() -> int:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for backend in ("nft", "legacy"):
        for protocol in ("ipv4", "ipv6"):
            with scratch_netns() as netns:
                capture(netns, backend, protocol)
    return 0


if __name__ == "__main__":
    sys.exit(main())
