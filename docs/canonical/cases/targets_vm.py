"""Probe cases for the "targets" group measured in the VM tier (a stock Debian 6.1 kernel).

This machine's kernel has no LED, CLUSTERIP or SELinux; Debian's 6.1 kernel has LED and
CLUSTERIP modules and SELinux built in (enabled with ``lsm=selinux``; with no policy loaded,
every context maps to the kernel SID, so SECMARK rules are accepted). ULOG is in no kernel
since 3.17: its cases here show that both tools refuse it on this kernel too.

Measured inside the VM (as root, from the repo; see scripts/run-vm-tests.sh for vng):
  .venv/bin/vng --run /boot/vmlinuz-6.1.0-57-amd64 --disable-kvm --memory 1G --cpus 2 \
      --append lsm=selinux --rwdir "$PWD" --exec "cd $PWD && modprobe xt_LED && \
      modprobe ipt_CLUSTERIP && modprobe xt_SECMARK && .venv/bin/python scripts/capture/canonical_probe.py \
      --cases docs/canonical/cases/targets_vm.py --out docs/canonical/vectors/targets_vm.json"
"""

# c(fam, argv, table=, chain=, note=, context=) and SETUP are given by scripts/capture/canonical_probe.py.

import itertools

M = {"table": "mangle", "chain": "X"}

# ---------------------------------------------------------------- LED
for opts, note in [
    ("--led-trigger-id foo", ""),
    ("--led-trigger-id foo --led-delay 42 --led-always-blink", ""),
    ("--led-always-blink --led-delay 42 --led-trigger-id foo", "order"),
    ("--led-trigger-id foo --led-delay 0", "delay 0"),
    ("--led-trigger-id foo --led-delay 1", ""),
    ("--led-trigger-id foo --led-delay 0x10", "hex"),
    ("--led-trigger-id foo --led-delay 010", "octal"),
    ("--led-trigger-id foo --led-delay 08", "bad octal"),
    ("--led-trigger-id foo --led-delay inf", ""),
    ("--led-trigger-id foo --led-delay INF", ""),
    ("--led-trigger-id foo --led-delay infinity", ""),
    ("--led-trigger-id foo --led-delay info", "inf prefix"),
    ("--led-trigger-id foo --led-delay in", ""),
    ("--led-trigger-id foo --led-delay 2147483647", ""),
    ("--led-trigger-id foo --led-delay 2147483648", "printed with %d"),
    ("--led-trigger-id foo --led-delay 4294967294", ""),
    ("--led-trigger-id foo --led-delay 4294967295", "all ones"),
    ("--led-trigger-id foo --led-delay 4294967296", ""),
    ("--led-trigger-id foo --led-delay -1", ""),
    ("--led-trigger-id foo --led-delay ''", "empty"),
    ("--led-trigger-id foo --led-delay ' 5'", "leading blank"),
    ("--led-trigger-id foo --led-always-blink --led-always-blink", "twice"),
    ("--led-trigger-id foo --led-trigger-id bar", "twice"),
    ("--led-delay 5", "no id"),
    ("", "nothing"),
    ("! --led-trigger-id foo", ""),
    ("--led-trigger-id foo ! --led-delay 5", ""),
    ("--led-trigger-id=foo --led-delay=5", ""),
]:
    c("46", f"-j LED {opts}".strip(), note=f"LED {note}".strip())
for ident, note in [
    ("a" * 16, "16 bytes"),
    ("b" * 17, "17 bytes"),
    ("é" * 8, "16 bytes of 2-byte characters"),
    ("é" * 9, "18 bytes"),
    ("a b", "space"),
    ('a"b', "double quote"),
    ("a\\b", "backslash"),
    ("a'b", "single quote"),
    ("", "empty"),
    ("UPPER-case_1.2", ""),
    ("a/b", "slash"),
    ("$x", "dollar"),
]:
    c("4", ["-j", "LED", "--led-trigger-id", ident], note=f"LED id {note}")
c("4", "-j LED --led-trigger-id foo", **M)
c("6", "-j LED --led-trigger-id foo --led-delay inf", table="raw", chain="PREROUTING")

# ---------------------------------------------------------------- CLUSTERIP (IPv4 only)
CIP = "--new --hashmode sourceip --clustermac 01:AA:7B:47:F7:D7 --total-nodes 2 --local-node 1"
_address = itertools.count(1)  # the last byte of each case's own destination address


def cip(opts: str, note: str = "", head: str = "-i lo", context: str = "", chain: str = "INPUT") -> None:
    """One CLUSTERIP case on a destination address of its own (the kernel keeps one config each)."""
    n = next(_address)
    c("4", f"-d 10.31.3.{n}/32 {head} -j CLUSTERIP {opts}".strip(), chain=chain, note=f"CLUSTERIP {note}".strip(),
      context=context)  # fmt: skip


cip(f"{CIP} --hash-init 1", "as in iptables' tests")
cip(CIP, "no --hash-init")
cip(f"{CIP} --hash-init 0")
cip(f"{CIP} --hash-init 4294967295")
cip(f"{CIP} --hash-init 4294967296")
cip(f"{CIP} --hash-init 0x10", "hex")
cip("--hash-init 7 --local-node 2 --total-nodes 3 --clustermac 01:00:5e:00:00:01 --hashmode sourceip --new", "order")
for mode in ("sourceip", "sourceip-sourceport", "sourceip-sourceport-destport", "SOURCEIP", "sourceip-", "dest"):
    cip(f"--new --hashmode {mode} --clustermac 01:AA:7B:47:F7:D7 --total-nodes 2 --local-node 1", f"hashmode {mode}")
for mac, note in [
    ("01:aa:7b:47:f7:d7", "lower case"),
    ("1:a:b:c:d:e", "short octets"),
    ("03:00:00:00:00:00", ""),
    ("00:AA:7B:47:F7:D7", "not multicast"),
    ("02:00:00:00:00:01", "not multicast"),
    ("ff:ff:ff:ff:ff:ff", "broadcast"),
    ("01-AA-7B-47-F7-D7", "dashes"),
    ("01:AA:7B:47:F7", "five octets"),
    ("01:AA:7B:47:F7:D7:00", "seven octets"),
    ("01:AA:7B:47:F7:100", "octet over 255"),
    ("01::7B:47:F7:D7", "empty octet"),
    ("01:AA:7B:47:F7:", "empty last octet"),
    ("-1:AA:7B:47:F7:D7", "negative octet"),
    ("+1:AA:7B:47:F7:D7", "plus sign"),
    ("1:AA:7B:47:F7:D7", "one-digit first octet"),
    ("0x1:AA:7B:47:F7:D7", "0x prefix"),
    ("001:AA:7B:47:F7:D7", "three digits"),
]:
    cip(f"--new --hashmode sourceip --clustermac {mac} --total-nodes 2 --local-node 1", f"mac {note}")
for total, local in [("1", "1"), ("16", "16"), ("17", "1"), ("0", "1"), ("2", "0"), ("2", "3"), ("2", "17"),
                     ("0x10", "0x2"), ("010", "010"), ("65536", "1")]:  # fmt: skip
    cip(f"--new --hashmode sourceip --clustermac 01:AA:7B:47:F7:D7 --total-nodes {total} --local-node {local}",
        f"nodes {total}/{local}")  # fmt: skip
cip("--new", "--new alone")
cip("--new --hashmode sourceip --clustermac 01:AA:7B:47:F7:D7 --total-nodes 2", "no --local-node")
cip("--new --hashmode sourceip --clustermac 01:AA:7B:47:F7:D7 --local-node 1", "no --total-nodes")
cip("--new --hashmode sourceip --total-nodes 2 --local-node 1", "no --clustermac")
cip("--new --clustermac 01:AA:7B:47:F7:D7 --total-nodes 2 --local-node 1", "no --hashmode")
cip("--hashmode sourceip --clustermac 01:AA:7B:47:F7:D7 --total-nodes 2 --local-node 1", "no --new")
cip("--hash-init 1", "--hash-init alone")
cip("", "no options (the kernel wants a hash mode, which only --new sets)")
cip(f"--new {CIP}", "--new twice")
cip(f"! {CIP}", "")
cip(f"{CIP} --hash-init=5", "")
# Not vectors (a context applies to both backends, and iptables-nft refuses CLUSTERIP for its text):
# without -i, or with an interface the namespace lacks, legacy refuses --new only while no rule has
# created the address's config yet (ruleset); see spec-targets.md.
cip(CIP, "in FORWARD", chain="FORWARD")
cip(CIP, "in a user chain", chain="X")
c("4", f"-d 10.31.4.0/24 -i lo -j CLUSTERIP {CIP}", chain="INPUT", note="CLUSTERIP needs a /32 destination")
c("4", f"-i lo -j CLUSTERIP {CIP}", chain="INPUT", note="CLUSTERIP needs -d")
c("4", f"-d 0.0.0.0/32 -i lo -j CLUSTERIP {CIP}", chain="INPUT", note="CLUSTERIP zero destination")
c("6", f"-d 2001:db8::1/128 -i lo -j CLUSTERIP {CIP}", chain="INPUT", note="CLUSTERIP is IPv4 only")

# ---------------------------------------------------------------- SECMARK (SELinux on, no policy)
for ctx, note in [
    ("system_u:object_r:ssh_packet_t:s0", ""),
    ("a", "short"),
    ("unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023", ""),
    ("x" * 255, "255 bytes"),
    ("y" * 256, "256 bytes: cut"),
    ("z" * 300, "300 bytes"),
    ("é" * 128, "256 bytes: cut inside a character"),
    ("w" * 254 + "é", "256 bytes: cut inside a character"),
    ("v" * 255 + "é", "257 bytes: cut at a boundary"),
    ("a b", "space"),
    ('a"b', "double quote"),
    ("a\\b", "backslash"),
    ("", "empty"),
    ("-x", "dash"),
    ("kernel", "initial SID name"),
]:
    c("4", ["-j", "SECMARK", "--selctx", ctx], **M, note=f"SECMARK {note}".strip())
c("6", "-j SECMARK --selctx system_u:object_r:ssh_packet_t:s0", **M)
c("46", "-j SECMARK --selctx system_u:object_r:ssh_packet_t:s0", table="mangle", chain="INPUT")
c("4", "-j SECMARK --selctx=a", **M)
c("4", "-j SECMARK", **M, note="SECMARK needs --selctx")
c("4", "-j SECMARK --selctx a --selctx b", **M)
c("4", "-j SECMARK ! --selctx a", **M)
c("4", "-j SECMARK --selctx a", context="SECMARK only in mangle and security (table)")

# ---------------------------------------------------------------- ULOG: in no kernel since 3.17
for opts in ("", "--ulog-nlgroup 1", "--ulog-prefix x --ulog-cprange 10 --ulog-qthreshold 5"):
    c("46", f"-j ULOG {opts}".strip(), note="ULOG")
