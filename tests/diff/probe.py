"""The differential lab: namespaces A - R - B, real probe packets, and what the kernel did with them.

Owns: building the three namespaces (``Lab.build``: veths ``a0``-``ra`` and
``rb``-``b0``, R's addresses, routes, permanent neighbours and forwarding;
A and B have no addresses and IPv6 disabled, so they never answer nor send),
crafting one probe (``Probe``: a UDP datagram or a TCP SYN, written whole as
an Ethernet frame on A's veth, its token in the UDP payload or the TCP
sequence number), loading a ruleset into R, reading R's per-rule counters
(``iptables-save -c``) and observing the outcome (``Lab.send``): the frame
captured on B's or A's veth (forwarded, with its addresses after NAT), a
copy on R's raw sockets (delivered locally), an ICMP error back at A
(rejected), or nothing (dropped). Every command runs inside the test's own
namespaces (``ip -n``, ``ip netns exec``); sockets are opened there by a
short-lived thread that entered the namespace, so the caller's namespace
never changes. Does not own: making or deleting the namespaces (the
``netns_factory`` fixture), the rulesets (``generate``) or the comparison
(``test_differential``).
"""

from __future__ import annotations

import ipaddress
import json
import os
import select
import socket
import struct
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from vnetkit.exec import _linux, nsfs

__all__ = ["ADDR", "Lab", "Observation", "Probe", "parse_counters"]

_T = TypeVar("_T")

MAC = {
    "a0": "02:00:00:00:00:0a",
    "ra": "02:00:00:00:01:0a",
    "rb": "02:00:00:00:01:0b",
    "b0": "02:00:00:00:00:0b",
}

#: The lab's addresses per family: R's two sides, the hosts behind A and B, a routed far network.
ADDR: dict[str, dict[str, str]] = {
    "ipv4": {"ra": "10.1.0.1", "rb": "10.2.0.1", "anet": "10.1.0.", "bnet": "10.2.0.", "far": "198.51.100.",
             "anet_cidr": "10.1.0.0/24", "bnet_cidr": "10.2.0.0/24", "far_cidr": "198.51.100.0/24",
             "plen": "24"},
    "ipv6": {"ra": "fd01::1", "rb": "fd02::1", "anet": "fd01::", "bnet": "fd02::", "far": "2001:db8:100::",
             "anet_cidr": "fd01::/64", "bnet_cidr": "fd02::/64", "far_cidr": "2001:db8:100::/64",
             "plen": "64"},
}  # fmt: skip

_ETH_P_ALL = 0x0003
_PACKET_OUTGOING = 4
_IPV6_RECVPKTINFO = 49
_IPV6_PKTINFO = 50
_MAGIC = b"vnkdiff"


def _run(argv: list[str], *, input: str | None = None, check: bool = True) -> str:
    done = subprocess.run(argv, input=input, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def _in_netns(netns: str, fn: Callable[[], _T]) -> _T:
    """Run ``fn`` on a throwaway thread that entered ``netns`` (sockets made there stay there)."""
    box: list[_T] = []
    errors: list[BaseException] = []

    def main() -> None:
        try:
            fd = nsfs.open_fd(netns)
            try:
                _linux.setns(fd)
            finally:
                os.close(fd)
            box.append(fn())
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            errors.append(exc)

    thread = threading.Thread(target=main, name=f"diff-netns-{netns}")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return box[0]


def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return int(~total & 0xFFFF)


@dataclass(frozen=True, slots=True)
class Probe:
    """One packet A sends to R: ``proto`` 6 (a TCP SYN) or 17 (UDP); ``token`` identifies it."""

    proto: int
    src: str
    dst: str
    sport: int
    dport: int
    token: int

    @property
    def family(self) -> str:
        return "ipv6" if ":" in self.src else "ipv4"

    def l4(self) -> bytes:
        src = ipaddress.ip_address(self.src).packed
        dst = ipaddress.ip_address(self.dst).packed
        if self.proto == 6:
            head = struct.pack("!HHIIBBHHH", self.sport, self.dport, self.token, 0, 5 << 4, 0x02, 64240, 0, 0)
            body = b""
        else:
            body = _MAGIC + struct.pack("!I", self.token)
            head = struct.pack("!HHHH", self.sport, self.dport, 8 + len(body), 0)
        seg = head + body
        if self.family == "ipv4":
            pseudo = src + dst + struct.pack("!BBH", 0, self.proto, len(seg))
        else:
            pseudo = src + dst + struct.pack("!I3xB", len(seg), self.proto)
        csum = _csum(pseudo + seg) or (0xFFFF if self.proto == 17 else 0)
        at = 16 if self.proto == 6 else 6
        return seg[:at] + struct.pack("!H", csum) + seg[at + 2 :]

    def ip(self) -> bytes:
        seg = self.l4()
        src = ipaddress.ip_address(self.src).packed
        dst = ipaddress.ip_address(self.dst).packed
        if self.family == "ipv4":
            head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), self.token & 0xFFFF, 0x4000, 64,
                               self.proto, 0, src, dst)  # fmt: skip
            head = head[:10] + struct.pack("!H", _csum(head)) + head[12:]
            return head + seg
        return struct.pack("!IHBB16s16s", 0x60000000, len(seg), self.proto, 64, src, dst) + seg

    def frame(self) -> bytes:
        ethertype = 0x0800 if self.family == "ipv4" else 0x86DD
        return _mac(MAC["ra"]) + _mac(MAC["a0"]) + struct.pack("!H", ethertype) + self.ip()

    def __str__(self) -> str:
        name = "tcp" if self.proto == 6 else "udp"
        if self.family == "ipv6":
            return f"{name} [{self.src}]:{self.sport} -> [{self.dst}]:{self.dport} in ra"
        return f"{name} {self.src}:{self.sport} -> {self.dst}:{self.dport} in ra"


def _mac(text: str) -> bytes:
    return bytes(int(part, 16) for part in text.split(":"))


@dataclass(frozen=True, slots=True)
class Observation:
    """What the kernel did: ``disposition`` as the engine says it, ``out`` interface, ``final`` 4-tuple."""

    disposition: str
    out: str | None = None
    final: tuple[str, str, int, int] | None = None
    counters: Counter[tuple[str, str, int]] = field(default_factory=Counter)


def parse_counters(text: str) -> dict[tuple[str, str, int], int]:
    """``iptables-save -c`` text to {(table, chain, position): packets}; a built-in chain's policy is 0."""
    out: dict[tuple[str, str, int], int] = {}
    table = ""
    positions: Counter[str] = Counter()
    for line in text.splitlines():
        if line.startswith("*"):
            table, positions = line[1:].strip(), Counter()
        elif line.startswith(":"):
            name, policy, counts = line[1:].split(" ", 2)
            if policy != "-":
                out[(table, name, 0)] = int(counts.strip("[]").split(":")[0])
        elif line.startswith("["):
            counts, rest = line.split(" ", 1)
            chain = rest.split()[1]
            positions[chain] += 1
            out[(table, chain, positions[chain])] = int(counts.strip("[]").split(":")[0])
    return out


def _parse_l3(data: bytes) -> tuple[int, str, str, bytes] | None:
    """An IP packet's (proto, src, dst, L4 bytes); None when it is not one."""
    if len(data) >= 20 and data[0] >> 4 == 4:
        ihl = (data[0] & 0xF) * 4
        return (
            data[9],
            str(ipaddress.IPv4Address(data[12:16])),
            str(ipaddress.IPv4Address(data[16:20])),
            data[ihl:],
        )
    if len(data) >= 40 and data[0] >> 4 == 6:
        return (
            data[6],
            str(ipaddress.IPv6Address(data[8:24])),
            str(ipaddress.IPv6Address(data[24:40])),
            data[40:],
        )
    return None


def _token(proto: int, l4: bytes) -> int | None:
    if proto == 6 and len(l4) >= 20:
        return int(struct.unpack("!I", l4[4:8])[0])
    if proto == 17 and len(l4) >= 19 and l4[8:15] == _MAGIC:
        return int(struct.unpack("!I", l4[15:19])[0])
    return None


def _multicast(frame: bytes) -> bool:
    """An Ethernet frame to a multicast MAC (R's MLD or IGMP reports, never a probe)."""
    return len(frame) >= 14 and frame[0] & 1 == 1


def _is_icmp_error(proto: int, l4: bytes) -> bool:
    return bool(l4) and ((proto == 1 and l4[0] in (3, 11, 12)) or (proto == 58 and l4[0] in (1, 3, 4)))


class Lab:
    """A - R - B, built in three namespaces the caller owns (and deletes)."""

    def __init__(self, a: str, r: str, b: str) -> None:
        self.a, self.r, self.b = a, r, b
        self.backend = ""
        self._socks: dict[str, socket.socket] = {}
        self._local: list[socket.socket] = []
        self.last_counters: dict[tuple[str, str, int], int] = {}
        #: Frames R sent to a multicast group (MLD, IGMP reports) during the last probe: noisy counters.
        self.strays = 0

    # -- building ---------------------------------------------------------------------

    def build(self) -> None:
        a, r, b = self.a, self.r, self.b
        for ns in (a, b):
            _run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                  "net.ipv6.conf.default.disable_ipv6=1"])  # fmt: skip
        _run(["ip", "netns", "exec", r, "sysctl", "-qw", "net.ipv4.ip_forward=1",
              "net.ipv6.conf.all.forwarding=1", "net.ipv6.conf.all.accept_dad=0",
              "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.default.router_solicitations=0",
              "net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.default.send_redirects=0"])  # fmt: skip
        lines = [
            f"link add ra address {MAC['ra']} type veth peer name a0 address {MAC['a0']} netns {a}",
            f"link add rb address {MAC['rb']} type veth peer name b0 address {MAC['b0']} netns {b}",
            "link set ra up", "link set rb up",
        ]  # fmt: skip
        for fam, v in ADDR.items():
            nodad = " nodad" if fam == "ipv6" else ""
            lines += [
                f"addr add {v['ra']}/{v['plen']} dev ra{nodad}",
                f"addr add {v['rb']}/{v['plen']} dev rb{nodad}",
                f"route add {v['far_cidr']} via {v['bnet']}2 dev rb",
            ]
            for host in range(2, 10):
                lines.append(f"neigh replace {v['anet']}{host} lladdr {MAC['a0']} dev ra nud permanent")
                lines.append(f"neigh replace {v['bnet']}{host} lladdr {MAC['b0']} dev rb nud permanent")
        _run(["ip", "-n", r, "-batch", "-"], input="\n".join(lines) + "\n")
        # R's ICMP errors must not be rate-limited: a REJECT is seen as the error arriving at A.
        keys = ("net.ipv4.icmp_ratelimit=0", "net.ipv6.icmp.ratelimit=0", "net.ipv4.icmp_msgs_per_sec=100000")
        for key in keys:
            _run(["ip", "netns", "exec", r, "sysctl", "-qw", key], check=False)
        _run(["ip", "-n", a, "link", "set", "a0", "up"])
        _run(["ip", "-n", b, "link", "set", "b0", "up"])
        self._open_sockets()

    def _open_sockets(self) -> None:
        def packet(ifname: str) -> Callable[[], socket.socket]:
            def make() -> socket.socket:
                s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(_ETH_P_ALL))
                s.bind((ifname, _ETH_P_ALL))
                s.setblocking(False)
                return s

            return make

        self._socks["a"] = _in_netns(self.a, packet("a0"))
        self._socks["b"] = _in_netns(self.b, packet("b0"))

        def local() -> list[socket.socket]:
            made = []
            for fam in (socket.AF_INET, socket.AF_INET6):
                for proto in (socket.IPPROTO_TCP, socket.IPPROTO_UDP):
                    s = socket.socket(fam, socket.SOCK_RAW, proto)
                    if fam == socket.AF_INET6:
                        s.setsockopt(socket.IPPROTO_IPV6, _IPV6_RECVPKTINFO, 1)
                    s.setblocking(False)
                    made.append(s)
            return made

        self._local = _in_netns(self.r, local)

    def close(self) -> None:
        for s in [*self._socks.values(), *self._local]:
            s.close()
        self._socks.clear()
        self._local.clear()

    # -- rules and counters -----------------------------------------------------------

    def _tool(self, family: str, what: str) -> list[str]:
        base = "iptables" if family == "ipv4" else "ip6tables"
        return ["ip", "netns", "exec", self.r, f"{base}-{self.backend}-{what}"]

    def load(self, backend: str, family: str, text: str) -> None:
        """Replace R's rules of ``family`` by ``text`` (``iptables-restore`` input) with ``backend``."""
        self.backend = backend
        if backend == "nft":
            _run(["ip", "netns", "exec", self.r, "nft", "flush", "ruleset"])
        else:
            for tool in ("iptables", "ip6tables"):
                for table in ("raw", "mangle", "nat", "filter"):
                    base = ["ip", "netns", "exec", self.r, f"{tool}-legacy", "-w", "-t", table]
                    for op in (["-F"], ["-X"], ["-Z"]):
                        _run(base + op, check=False)
        _run(self._tool(family, "restore"), input=text)

    def counters(self, family: str) -> dict[tuple[str, str, int], int]:
        return parse_counters(_run([*self._tool(family, "save"), "-c"]))

    def nft_base_chains(self, family: str) -> set[tuple[str, str]]:
        """(table, chain) of the built-in chains that exist in R's nf_tables (``nft -j list chains``)."""
        data = json.loads(_run(["ip", "netns", "exec", self.r, "nft", "-j", "list", "chains",
                                "ip" if family == "ipv4" else "ip6"]))  # fmt: skip
        return {
            (entry["chain"]["table"], entry["chain"]["name"])
            for entry in data.get("nftables", [])
            if "chain" in entry and "hook" in entry["chain"]
        }

    def flush_conntrack(self) -> None:
        _run(["ip", "netns", "exec", self.r, "conntrack", "-F"], check=False)

    # -- one probe ----------------------------------------------------------------------

    def drain(self) -> int:
        """Empty every socket; how many frames R sent to a multicast address (MLD, IGMP) meanwhile."""
        strays = 0
        for s in [*self._socks.values(), *self._local]:
            while True:
                try:
                    data = s.recv(65535)
                except BlockingIOError:
                    break
                if s not in self._local and _multicast(data):
                    strays += 1
        return strays

    def send(self, probe: Probe, *, expect: bool, before: dict[tuple[str, str, int], int]) -> Observation:
        """Send ``probe`` from A; wait up to 1 s for a sign of it when ``expect``, else 50 ms."""
        self.strays = self.drain()
        self._socks["a"].send(probe.frame())
        deadline = time.monotonic() + (1.0 if expect else 0.05)
        seen: Observation | None = None
        icmp_error = False
        while seen is None:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([*self._socks.values(), *self._local], [], [], left)
            for s in ready:
                got = self._read(s, probe)
                if got == "icmp-error":
                    icmp_error = True
                elif isinstance(got, Observation):
                    seen = got
            if icmp_error and seen is None:
                deadline = min(deadline, time.monotonic() + 0.01)  # a local copy may still be queued
        if seen is None:
            seen = Observation("rejected" if icmp_error else "dropped")
        time.sleep(0.005)  # let R finish its own reply (an ICMP error, a RST) before the counters are read
        after = self.counters(probe.family)
        self.strays += self.drain()
        delta: Counter[tuple[str, str, int]] = Counter(
            {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0) > 0}
        )
        self.last_counters = after
        return Observation(seen.disposition, seen.out, seen.final, delta)

    def _read(self, s: socket.socket, probe: Probe) -> Observation | str | None:  # noqa: PLR0911
        try:
            if s in self._local and s.family == socket.AF_INET6:
                data, anc, _flags, addr = s.recvmsg(65535, socket.CMSG_SPACE(20))
                dst = next(
                    (
                        str(ipaddress.IPv6Address(c[2][:16]))
                        for c in anc
                        if c[:2] == (socket.IPPROTO_IPV6, _IPV6_PKTINFO)
                    ),
                    "?",
                )
                parsed: tuple[int, str, str, bytes] | None = (s.proto, str(addr[0]).split("%")[0], dst, data)
            else:
                data, addr = s.recvfrom(65535)
                if s in self._local:
                    parsed = _parse_l3(data)
                else:
                    if addr[2] == _PACKET_OUTGOING or len(data) < 14:
                        return None
                    ethertype = struct.unpack("!H", data[12:14])[0]
                    parsed = _parse_l3(data[14:]) if ethertype in (0x0800, 0x86DD) else None
        except BlockingIOError:
            return None
        if parsed is None:
            return None
        if s not in self._local and _multicast(data):
            self.strays += 1
            return None
        proto, src, dst, l4 = parsed
        if s is self._socks["a"] and _is_icmp_error(proto, l4):
            return "icmp-error"
        if proto != probe.proto or _token(proto, l4) != probe.token:
            return None
        sport, dport = struct.unpack("!HH", l4[:4])
        final = (src, dst, int(sport), int(dport))
        if s in self._local:
            return Observation("delivered", None, final)
        return Observation("forwarded", "rb" if s is self._socks["b"] else "ra", final)
