"""Probe cases for the "targets" group: AUDIT, CHECKSUM, CONNSECMARK, DNPT/SNPT, ECN, HMARK,
IDLETIMER, RATEEST, SECMARK, SET, TCPOPTSTRIP, TEE and ULOG, plus strings iptables cuts at a
byte limit (comment, LOG/NFLOG prefixes, recent --name and the string options of these targets).

Measured on this machine's kernel (6.18): LED and CLUSTERIP are absent here and measured in the
VM tier (targets_vm.py); SECMARK needs SELinux, which this kernel has not enabled (every SECMARK
rule is refused here; targets_vm.py boots the VM with SELinux on).

Run:  .venv/bin/python scripts/capture/canonical_probe.py --cases docs/canonical/cases/targets.py \
          --out docs/canonical/vectors/targets.json
"""

# c(fam, argv, table=, chain=, note=, context=) and SETUP are given by scripts/capture/canonical_probe.py.

SETUP = [
    ["ipset", "create", "sm4", "hash:ip", "family", "inet", "skbinfo"],
    ["ipset", "create", "sm6", "hash:ip", "family", "inet6", "skbinfo"],
    ["ipset", "create", "s4n3", "hash:ip,port,ip", "family", "inet"],
    ["ipset", "create", "sl", "list:set"],
    ["ipset", "create", "s" * 31, "hash:ip", "family", "inet"],
]

M = {"table": "mangle", "chain": "X"}
TABLE_MANGLE = "the kernel allows this target only in the mangle table (table)"

# ---------------------------------------------------------------- AUDIT
for kind in ("accept", "drop", "reject", "ACCEPT", "Drop", "rEjEcT"):
    c("46", f"-j AUDIT --type {kind}", note=f"AUDIT type {kind}")
c("46", "-j AUDIT", note="AUDIT needs --type")
c("4", "-j AUDIT --type wrong")
c("4", "-j AUDIT --type acc", note="no prefixes")
c("4", "-j AUDIT --type accept --type drop", note="given twice")
c("4", "-j AUDIT ! --type accept")
c("4", "-j AUDIT --type=drop")
c("4", "-j AUDIT --type ''")
c("4", ["-j", "AUDIT", "--type", " accept"], note="leading blank")
c("4", "-j AUDIT --type accept", table="nat", chain="X")
c("4", "-j AUDIT --type drop", table="raw", chain="PREROUTING")
c("6", "-j AUDIT --type reject", **M)
c("4", "-p tcp --dport 22 -j AUDIT --type accept", chain="INPUT")

# ---------------------------------------------------------------- CHECKSUM
c("46", "-j CHECKSUM --checksum-fill", **M)
c("46", "-p udp -j CHECKSUM --checksum-fill", table="mangle", chain="POSTROUTING")
c("46", "-j CHECKSUM", **M, note="CHECKSUM needs --checksum-fill")
c("4", "-j CHECKSUM ! --checksum-fill", **M)
c("4", "-j CHECKSUM --checksum-fill --checksum-fill", **M)
c("4", "-j CHECKSUM --checksum-fill", context=TABLE_MANGLE)
c("4", "-j CHECKSUM --checksum-fill", table="raw", chain="X", context=TABLE_MANGLE)
c("4", "-j CHECKSUM --checksum-fill=1", **M)

# ---------------------------------------------------------------- CONNSECMARK
CONNSECMARK_TABLE = "the kernel allows CONNSECMARK only in mangle and security (table)"
c("46", "-j CONNSECMARK --save", **M)
c("46", "-j CONNSECMARK --restore", **M)
c("4", "-j CONNSECMARK --save", table="mangle", chain="POSTROUTING")
c("4", "-j CONNSECMARK --restore", table="mangle", chain="PREROUTING")
c("46", "-j CONNSECMARK", **M)
c("4", "-j CONNSECMARK --save --restore", **M)
c("4", "-j CONNSECMARK --restore --save", **M)
c("4", "-j CONNSECMARK --save --save", **M)
c("4", "-j CONNSECMARK ! --save", **M)
c("4", "-j CONNSECMARK --save", context=CONNSECMARK_TABLE)
c("4", "-j CONNSECMARK --restore", table="nat", chain="X", context=CONNSECMARK_TABLE)

# ---------------------------------------------------------------- DNPT / SNPT (IPv6 only)
NPT = {"DNPT": {"table": "mangle", "chain": "PREROUTING"}, "SNPT": {"table": "mangle", "chain": "POSTROUTING"}}
for name, where in NPT.items():
    c("6", f"-j {name} --src-pfx dead::/64 --dst-pfx 1c3::/64", **where)
    c("6", f"-j {name} --dst-pfx 1c3::/64 --src-pfx dead::/64", **where, note="order")
    c("6", f"-j {name} --src-pfx dead::/64 --dst-pfx 1c3::/64", **M)
    c("4", f"-j {name} --src-pfx 10.0.0.0/8 --dst-pfx 10.1.0.0/16", **M, note="IPv6 only")
    c("6", f"-j {name} --src-pfx dead::beef/64 --dst-pfx 1c3::/64", **M, note="host bits set")
    c("6", f"-j {name} --src-pfx dead::/64", **M)
    c("6", f"-j {name} --dst-pfx dead::/64", **M)
    c("6", f"-j {name}", **M)
    c("6", f"-j {name} --src-pfx dead::/64 --dst-pfx 1c3::/64", context=TABLE_MANGLE)
    c("6", f"-j {name} ! --src-pfx dead::/64 --dst-pfx 1c3::/64", **M)
    c("6", f"-j {name} --src-pfx=dead::/64 --dst-pfx=1c3::/64", **M)
    c("6", f"-j {name} --src-pfx dead::/64 --src-pfx dead::/64 --dst-pfx 1c3::/64", **M)
for src, dst, note in [
    ("DEAD:0:0:0::/64", "1C3::/64", "upper case, uncompressed"),
    ("2001:db8:0:0::/48", "2001:db8:1::/48", "/48"),
    ("2001:db8::/48", "2001:db8:1::/64", "different lengths"),
    ("2001:db8::/0x40", "fd00::/0x40", "hex length"),
    ("2001:db8::/064", "fd00::/64", "octal-looking length"),
    ("2001:db8::/ffff:ffff:ffff:ffff::", "fd00::/64", "mask form"),
    ("2001:db8::/ffff:ffff:ffff:ff00::", "fd00::/64", "mask form /56"),
    ("2001:db8::/ffff:0:ffff::", "fd00::/64", "mask with holes"),
    ("2001:db8::/65", "fd00::/64", "longer than 64"),
    ("2001:db8::/128", "fd00::/64", "/128"),
    ("2001:db8::/129", "fd00::/64", "bad length"),
    ("2001:db8::", "fd00::/64", "no length"),
    ("::/0", "fd00::/64", "zero prefix"),
    ("::/0", "::/0", "both zero"),
    ("fd00::/64", "::/0", "zero destination"),
    ("::/64", "fd00::/64", "zero address /64"),
    ("2001:db8::/1", "8000::/1", "/1"),
    ("64:ff9b::/64", "fd00::/64", "NAT64 prefix"),
    ("::ffff:0:0/64", "fd00::/64", "v4-mapped text"),
    ("::ffff:1.2.3.4/64", "fd00::/64", "v4-mapped with host bits"),
    ("localhost/64", "fd00::/64", "host name"),
    ("ip6-localhost/64", "fd00::/64", "host name"),
    ("[2001:db8::]/64", "fd00::/64", "brackets"),
    (" 2001:db8::/64", "fd00::/64", "leading blank"),
    ("2001:db8::/ 64", "fd00::/64", "blank before length"),
    ("fe80::%lo/64", "fd00::/64", "scope id"),
    ("2001:db8::/64/64", "fd00::/64", "two slashes"),
    ("2001:db8::/", "fd00::/64", "empty length"),
    ("/64", "fd00::/64", "empty address"),
    ("10.0.0.0/64", "fd00::/64", "IPv4 address"),
    ("2001:db8:0:1::/64", "2001:db8:0:2::/64", "same length"),
    ("2001:db8:a:b::/63", "2001:db8:c:d::/63", "host bits in /63"),
]:
    c("6", ["-j", "DNPT", "--src-pfx", src, "--dst-pfx", dst], **NPT["DNPT"], note=f"DNPT {note}")
c("6", "-j SNPT --src-pfx fd00:1::/48 --dst-pfx 2001:db8:1::/48", **NPT["SNPT"])
c("6", "-j SNPT --src-pfx ::/0 --dst-pfx ::/0", **NPT["SNPT"], note="SNPT both zero")

# ---------------------------------------------------------------- ECN (IPv4 only)
for opts, note in [
    ("--ecn-tcp-remove", ""),
    ("--ecn-tcp-cwr 0", ""),
    ("--ecn-tcp-cwr 1", ""),
    ("--ecn-tcp-cwr 2", "over 1"),
    ("--ecn-tcp-ece 0", ""),
    ("--ecn-tcp-ece 1", ""),
    ("--ecn-tcp-ece 2", ""),
    ("--ecn-tcp-ece 0 --ecn-tcp-cwr 0", "both zero prints --ecn-tcp-remove?"),
    ("--ecn-tcp-cwr 0 --ecn-tcp-ece 0", ""),
    ("--ecn-tcp-cwr 1 --ecn-tcp-ece 1", "order"),
    ("--ecn-tcp-ece 1 --ecn-tcp-cwr 0", ""),
    ("--ecn-ip-ect 0", ""),
    ("--ecn-ip-ect 1", ""),
    ("--ecn-ip-ect 2", ""),
    ("--ecn-ip-ect 3", ""),
    ("--ecn-ip-ect 4", ""),
    ("--ecn-ip-ect 0x3", "hex"),
    ("--ecn-ip-ect 03", "octal"),
    ("--ecn-ip-ect 08", "bad octal"),
    ("--ecn-ip-ect -1", ""),
    ("--ecn-ip-ect ''", "empty"),
    ("--ecn-tcp-cwr 0x1", ""),
    ("--ecn-tcp-remove --ecn-ip-ect 1", "remove then ect"),
    ("--ecn-ip-ect 1 --ecn-tcp-remove", "ect then remove"),
    ("--ecn-ip-ect 2 --ecn-tcp-ece 1", ""),
    ("--ecn-tcp-ece 0 --ecn-tcp-cwr 0 --ecn-ip-ect 0", ""),
    ("--ecn-ip-ect 3 --ecn-tcp-cwr 1 --ecn-tcp-ece 0", "order of all three"),
    ("--ecn-tcp-remove --ecn-tcp-cwr 1", "excluded"),
    ("--ecn-tcp-ece 1 --ecn-tcp-remove", "excluded"),
    ("--ecn-tcp-remove --ecn-tcp-remove", "twice"),
    ("--ecn-tcp-cwr 1 --ecn-tcp-cwr 0", "twice"),
    ("", "no operation"),
    ("! --ecn-tcp-remove", ""),
    ("--ecn-ip-ect=2", ""),
]:
    c("4", f"-p tcp -j ECN {opts}", **M, note=f"ECN {note}".strip())
c("4", "-j ECN --ecn-ip-ect 1", **M, note="ECN ip-ect needs no -p tcp")
c("4", "-p udp -j ECN --ecn-ip-ect 2", **M)
c("4", "-j ECN --ecn-tcp-remove", **M, note="ECN tcp ops need -p tcp")
c("4", "-j ECN --ecn-tcp-cwr 1", **M)
c("4", "-p udp -j ECN --ecn-tcp-ece 0", **M)
c("4", "! -p tcp -j ECN --ecn-tcp-remove", **M)
c("4", "-p 6 -j ECN --ecn-tcp-remove", **M)
c("4", "-p tcp -j ECN --ecn-tcp-remove", table="mangle", chain="FORWARD")
c("4", "-p tcp -j ECN --ecn-tcp-remove", context=TABLE_MANGLE)
c("6", "-p tcp -j ECN --ecn-tcp-remove", **M, note="no ECN target in ip6tables")

# ---------------------------------------------------------------- HMARK
HM = "--hmark-mod 10 --hmark-rnd 0xfeedcafe"
for tuple_ in (
    "src",
    "dst",
    "sport",
    "dport",
    "spi",
    "proto",
    "ct",
    "src,dst",
    "dst,src",
    "src,dst,sport,dport,proto",
    "src,dst,spi,proto,ct",
    "ct,src",
    "SRC",
    "Dport",
    "s",
    "d",
    "sp",
    "dp",
    "p",
    "c",
    "spi",
    "sr",
    "pr",
    "srcx",
    "source",
    "src,src",
    "src,,dst",
    ",src",
    "src,",
    "",
    "spi,sport",
    "dport,spi",
    "x",
):
    c("46", ["-j", "HMARK", "--hmark-tuple", tuple_, *HM.split()], **M, note=f"HMARK tuple {tuple_!r}")
for opts, note in [
    (f"--hmark-src-prefix 24 {HM}", ""),
    (f"--hmark-dst-prefix 16 {HM}", ""),
    (f"--hmark-src-prefix 0 {HM}", "zero prefix"),
    (f"--hmark-src-prefix 32 {HM}", ""),
    (f"--hmark-src-prefix 33 {HM}", "over 32"),
    (f"--hmark-src-prefix 0x10 {HM}", "hex"),
    (f"--hmark-src-prefix 010 {HM}", "octal"),
    (f"--hmark-src-prefix 255.255.0.0 {HM}", "mask form"),
    (f"--hmark-src-prefix 255.0.255.0 {HM}", "mask with holes"),
    (f"--hmark-src-prefix 0.0.0.0 {HM}", "zero mask form"),
    (f"--hmark-src-prefix -1 {HM}", ""),
    (f"--hmark-src-prefix x {HM}", ""),
    (f"--hmark-src-prefix 4294967040 {HM}", "one number read as a mask"),
    (f"--hmark-src-prefix 0xffffff00 {HM}", "hex read as a mask"),
    (f"--hmark-src-prefix 255.255.255 {HM}", "three-part mask"),
    (f"--hmark-src-prefix 255.255.0.0.0 {HM}", "five parts"),
    (f"--hmark-src-prefix 0x20 {HM}", ""),
    (f"--hmark-src-prefix 0x21 {HM}", "hex over 32"),
    (f"--hmark-src-prefix ' 24' {HM}", "leading blank"),
    (f"--hmark-src-prefix '24 ' {HM}", "trailing blank"),
    (f"--hmark-src-prefix 255.255.0.08 {HM}", "bad octal mask"),
    (f"--hmark-dst-prefix 255.255.255.254 {HM}", ""),
    (f"--hmark-dst-prefix 128.0.0.0 {HM}", ""),
    (f"--hmark-sport-mask 0xffff {HM}", ""),
    (f"--hmark-sport-mask 0 {HM}", ""),
    (f"--hmark-sport-mask 65535 {HM}", "decimal"),
    (f"--hmark-sport-mask 65536 {HM}", ""),
    (f"--hmark-sport-mask 3 {HM}", ""),
    (f"--hmark-dport-mask 0x0004 {HM}", ""),
    (f"--hmark-dport-mask 0x10000 {HM}", ""),
    (f"--hmark-spi-mask 4 {HM}", ""),
    (f"--hmark-spi-mask 0xffffffff {HM}", ""),
    (f"--hmark-spi-mask 0x100000000 {HM}", ""),
    (f"--hmark-sport 80 {HM}", ""),
    (f"--hmark-dport 443 {HM}", ""),
    (f"--hmark-sport 65536 {HM}", ""),
    (f"--hmark-spi 256 {HM}", ""),
    (f"--hmark-spi 0 {HM}", ""),
    (f"--hmark-spi 1 --hmark-sport 2 {HM}", "spi with port set"),
    (f"--hmark-spi 1 --hmark-dport-mask 2 {HM}", "spi with port mask"),
    (f"--hmark-spi-mask 1 --hmark-sport 2 {HM}", "spi mask with port set"),
    (f"--hmark-spi-mask 1 --hmark-dport-mask 2 {HM}", "spi mask with port mask"),
    (f"--hmark-sport 1 --hmark-dport 2 --hmark-sport-mask 3 --hmark-dport-mask 4 {HM}", ""),
    (f"--hmark-proto-mask 5 {HM}", ""),
    (f"--hmark-proto-mask 0xff {HM}", ""),
    (f"--hmark-proto-mask 0x100 {HM}", "over a byte"),
    (f"--hmark-proto-mask 0xffff {HM}", ""),
    (f"--hmark-proto-mask 0x10000 {HM}", ""),
    (f"--hmark-proto-mask 0 {HM}", ""),
    ("--hmark-tuple src --hmark-mod 1 --hmark-rnd 0", "rnd 0"),
    ("--hmark-tuple src --hmark-mod 1 --hmark-rnd 4", ""),
    ("--hmark-tuple src --hmark-mod 1 --hmark-rnd 0xffffffff", ""),
    ("--hmark-tuple src --hmark-mod 1 --hmark-rnd 0x100000000", ""),
    ("--hmark-tuple src --hmark-mod 1 --hmark-rnd 4294967295", "decimal rnd"),
    ("--hmark-tuple src --hmark-mod 0 --hmark-rnd 1", "mod 0"),
    ("--hmark-tuple src --hmark-mod 4294967295 --hmark-rnd 1", ""),
    ("--hmark-tuple src --hmark-mod 0x10 --hmark-rnd 1", "hex mod"),
    ("--hmark-tuple src --hmark-mod 10", "no rnd"),
    ("--hmark-tuple src --hmark-rnd 10", "no mod"),
    (HM, "no tuple"),
    (f"--hmark-offset 5 {HM}", "offset only"),
    (f"--hmark-tuple src --hmark-offset 0 {HM}", ""),
    (f"--hmark-tuple src --hmark-offset 0x10 {HM}", "hex offset"),
    (f"--hmark-tuple src --hmark-offset 4294967295 {HM}", ""),
    (f"--hmark-tuple src --hmark-offset 4294967296 {HM}", ""),
    (f"--hmark-tuple src --hmark-src-prefix 24 {HM}", "tuple then prefix"),
    (f"--hmark-src-prefix 24 --hmark-tuple src {HM}", "prefix then tuple"),
    (f"--hmark-sport-mask 3 --hmark-tuple sport {HM}", "mask then tuple"),
    (f"--hmark-tuple sport --hmark-sport-mask 3 {HM}", "tuple then mask"),
    (f"--hmark-proto-mask 5 --hmark-tuple proto {HM}", ""),
    (f"--hmark-tuple proto --hmark-proto-mask 5 {HM}", ""),
    (f"--hmark-tuple src --hmark-tuple dst {HM}", "tuple twice"),
    (f"--hmark-tuple ct --hmark-tuple ct {HM}", "tuple twice"),
    ("--hmark-tuple src --hmark-mod 10 --hmark-mod 11 --hmark-rnd 1", "mod twice"),
    (
        "--hmark-tuple ct --hmark-offset 1 --hmark-mod 42 --hmark-rnd 4 --hmark-proto-mask 5"
        " --hmark-dport-mask 4 --hmark-sport-mask 3 --hmark-dst-prefix 2 --hmark-src-prefix 1",
        "reversed order",
    ),
    (
        "--hmark-spi 7 --hmark-spi-mask 8 --hmark-tuple src,dst,proto --hmark-mod 3 --hmark-rnd 9",
        "",
    ),
    (f"! --hmark-tuple src {HM}", ""),
    ("--hmark-tuple=src --hmark-mod=10 --hmark-rnd=0xfeedcafe", "--opt=value"),
]:
    c("4", f"-j HMARK {opts}", **M, note=f"HMARK {note}".strip())
for opts, note in [
    (f"--hmark-src-prefix 64 {HM}", ""),
    (f"--hmark-dst-prefix 128 {HM}", ""),
    (f"--hmark-src-prefix 0 {HM}", ""),
    (f"--hmark-src-prefix 129 {HM}", ""),
    (f"--hmark-src-prefix 33 {HM}", "over 32 on v6"),
    (f"--hmark-src-prefix ffff:ffff:: {HM}", "mask form"),
    (f"--hmark-src-prefix ffff::ffff {HM}", "mask with holes"),
    (f"--hmark-src-prefix 255.255.0.0 {HM}", "v4 mask form"),
    (f"--hmark-tuple src,dst,sport,dport,proto --hmark-offset 3 {HM}", ""),
    (f"--hmark-tuple spi --hmark-dst-prefix 56 {HM}", ""),
    (
        "--hmark-sport 1 --hmark-dport 2 --hmark-sport-mask 3 --hmark-dport-mask 4 --hmark-proto-mask 5"
        " --hmark-tuple src --hmark-mod 6 --hmark-rnd 7",
        "ports and masks",
    ),
    ("--hmark-spi 8 --hmark-spi-mask 9 --hmark-tuple dst,ct --hmark-mod 6 --hmark-rnd 7", "spi"),
    (f"--hmark-src-prefix ' 64' {HM}", "leading blank"),
    (f"--hmark-src-prefix 0x40 {HM}", "hex"),
    (f"--hmark-src-prefix ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff {HM}", "full mask form"),
]:
    c("6", f"-j HMARK {opts}", **M, note=f"HMARK v6 {note}".strip())
c("4", f"-j HMARK --hmark-tuple src {HM}", table="filter", chain="INPUT")
c("6", f"-j HMARK --hmark-tuple dst {HM}", table="raw", chain="PREROUTING")

# ---------------------------------------------------------------- IDLETIMER
# Timer labels are global (sysfs, not per namespace): a label is used with one timer type only.
for opts, note in [
    ("--timeout 10 --label vnkt-a", ""),
    ("--label vnkt-a --timeout 10", "order"),
    ("--timeout 1 --label vnkt-a", ""),
    ("--timeout 0 --label vnkt-a", "zero timeout"),
    ("--timeout 0x10 --label vnkt-a", "hex"),
    ("--timeout 010 --label vnkt-a", "octal"),
    ("--timeout 2147482 --label vnkt-a", ""),
    ("--timeout 2147483 --label vnkt-a", "INT_MAX/1000"),
    ("--timeout 4294967295 --label vnkt-a", ""),
    ("--timeout 4294967296 --label vnkt-a", ""),
    ("--timeout -1 --label vnkt-a", ""),
    ("--timeout 10", "no label"),
    ("--label vnkt-a", "no timeout"),
    ("--timeout 10 --label vnkt-a --timeout 11", "twice"),
    ("--timeout=10 --label=vnkt-a", ""),
    ("! --timeout 10 --label vnkt-a", ""),
    ("--timeout 10 --label vnkt-b --alarm", "alarm"),
    ("--alarm --timeout 10 --label vnkt-b", "alarm first"),
    ("--timeout 10 --label vnkt-b --alarm --alarm", "alarm twice"),
    ("--timeout 10 --label VNKT-Upper.1_2", "label characters"),
]:
    c("46", f"-j IDLETIMER {opts}", note=f"IDLETIMER {note}".strip())
for label, note in [
    ("v" * 27, "27 bytes"),
    ("w" * 28, "28 bytes: cut?"),
    ("y" * 40, "40 bytes"),
    ("é" * 14, "28 bytes of 2-byte characters"),
    ("u" * 25 + "é", "27 bytes ending in a 2-byte character"),
    ("t" * 26 + "é", "28 bytes, cut inside a character"),
    ("s" * 27 + "é", "29 bytes, cut at a character boundary"),
    ("€" * 9 + "r", "3-byte characters"),
    ("vnkt a", "space"),
    ("vnkt/a", "slash"),
    ('vnkt"a', "double quote"),
    ("vnkt\\a", "backslash"),
    ("vnkt'a", "single quote"),
    ("", "empty"),
    ("-vnkt", "starts with a dash"),
    (".", "dot"),
    ("..", "two dots"),
]:
    c("4", ["-j", "IDLETIMER", "--timeout", "5", "--label", label], note=f"IDLETIMER label {note}")
c("4", "-j IDLETIMER --timeout 5 --label vnkt-m", table="mangle", chain="PREROUTING")
c("6", "-j IDLETIMER --timeout 5 --label vnkt-r", table="raw", chain="OUTPUT")

# ---------------------------------------------------------------- RATEEST
for interval, ewma in [
    ("250ms", "1s"),
    ("250ms", "500ms"),
    ("250ms", "250ms"),
    ("250ms", "2s"),
    ("250ms", "1000s"),
    ("250ms", "30000s"),
    ("250ms", "100ms"),
    ("500ms", "1s"),
    ("1s", "4s"),
    ("2s", "8s"),
    ("4s", "16s"),
    ("8s", "32s"),
    ("8.1s", "32s"),
    ("9s", "32s"),
    ("1s", "1s"),
    ("1s", "1.5s"),
    ("1s", "3s"),
    ("1s", "10s"),
    ("1s", "100s"),
    ("100ms", "1s"),
    ("0", "1s"),
    ("1us", "1s"),
    ("250000", "1000000"),
    ("250000us", "1000000usec"),
    ("250msec", "1sec"),
    ("250msecs", "1secs"),
    ("0.25s", "1s"),
    (".25s", "1s"),
    ("250MS", "1S"),
    ("250Ms", "1Sec"),
    ("2.5e2ms", "1e0s"),
    ("0x10ms", "1s"),
    ("250 ms", "1s"),
    ("250m", "1s"),
    ("250min", "1s"),
    ("ms", "1s"),
    ("", "1s"),
    ("-1s", "1s"),
    ("-0", "1s"),
    ("inf", "1s"),
    ("nan", "1s"),
    ("250ms", "inf"),
    ("250ms", "nan"),
    ("250ms", "-1s"),
    ("250ms", "5000000000"),
    ("250ms", "4294967295"),
    ("250ms", "4294967296"),
    ("250ms", "0"),
    ("500ms", "10s"),
    ("2s", "1000s"),
    ("4s", "4.5s"),
    ("8s", "100000s"),
    ("3s", "7s"),
    ("300ms", "2s"),
    ("1.0000001s", "4s"),
    (" 250ms", "1s"),
    ("+250ms", "1s"),
    ("250ms", "1e19"),
    ("250ms", "9.3e18"),
    ("250ms", "9e18"),
    ("250ms", "1e30us"),
    ("250ms", "18446744073709551616"),
    ("250ms", "8589934592"),
    ("250ms", "12884901888.5"),
    ("0x1p-2s", "1s"),
    ("1e-3s", "1s"),
    ("1.5", "1s"),
    ("250ms", "infs"),
    ("250ms", "INF"),
    ("250ms", "nan(1)s"),
    ("250ms", "0x1.8p1s"),
    ("250ms", "3.5"),
    ("250ms", "1e"),
    ("250ms", "1e+"),
    ("250ms", "1s "),
    ("1s", "2.0000001s"),
    ("1s", "2.5s"),
    ("2s", "5.7s"),
    ("500ms", "700ms"),
    ("500ms", "750ms"),
    ("500ms", "1.1s"),
    ("1us", "1100s"),
    ("1us", "4000s"),
    ("2us", "4000s"),
]:
    c(
        "4",
        ["-j", "RATEEST", "--rateest-name", "r1", "--rateest-interval", interval, "--rateest-ewmalog", ewma],
        **M,
        note=f"RATEEST interval {interval!r} ewmalog {ewma!r}",
    )
for opts, note in [
    ("--rateest-name r1 --rateest-interval 1s", "no ewmalog"),
    ("--rateest-name r1 --rateest-ewmalog 1s", "no interval"),
    ("--rateest-interval 1s --rateest-ewmalog 4s", "no name"),
    ("--rateest-ewmalog 4s --rateest-interval 1s --rateest-name r1", "order"),
    ("--rateest-name r1 --rateest-name r2 --rateest-interval 1s --rateest-ewmalog 4s", "twice"),
    ("! --rateest-name r1 --rateest-interval 1s --rateest-ewmalog 4s", ""),
    ("--rateest-name=r1 --rateest-interval=1s --rateest-ewmalog=4s", ""),
]:
    c("46", f"-j RATEEST {opts}", **M, note=f"RATEEST {note}".strip())
for name, note in [
    ("n" * 15, "15 bytes"),
    ("n" * 16, "16 bytes: cut?"),
    ("m" * 30, "30 bytes"),
    ("é" * 8, "16 bytes of 2-byte characters"),
    ("k" * 14 + "é", "16 bytes, cut inside a character"),
    ("k" * 15 + "é", "17 bytes, cut at a boundary"),
    ("a b", "space"),
    ('a"b', "double quote"),
    ("a/b", "slash"),
    ("", "empty"),
]:
    c(
        "4",
        ["-j", "RATEEST", "--rateest-name", name, "--rateest-interval", "1s", "--rateest-ewmalog", "4s"],
        **M,
        note=f"RATEEST name {note}",
    )
c("4", "-j RATEEST --rateest-name r9 --rateest-interval 1s --rateest-ewmalog 4s", table="filter", chain="X")
c("6", "-j RATEEST --rateest-name r9 --rateest-interval 1s --rateest-ewmalog 4s", table="raw", chain="X")

# ---------------------------------------------------------------- SECMARK (no SELinux on this kernel)
NO_SELINUX = "SELinux is not enabled on this kernel: it cannot map the context (kernel)"
for ctx, note in [
    ("system_u:object_r:ssh_packet_t:s0", ""),
    ("a", "short"),
    ("x" * 255, "255 bytes"),
    ("x" * 256, "256 bytes: cut"),
]:
    c("46", ["-j", "SECMARK", "--selctx", ctx], **M, note=f"SECMARK {note}".strip(), context=NO_SELINUX)
# Refused here by the kernel, and by canonical() for the text: a cut inside a character, an empty context.
c("46", ["-j", "SECMARK", "--selctx", "é" * 128], **M, note="SECMARK 256 bytes: cut inside a character")
c("4", "-j SECMARK --selctx ''", **M, note="SECMARK empty context (printed bare: nothing)")
c("4", "-j SECMARK", **M, note="SECMARK needs --selctx")
c("4", "-j SECMARK ! --selctx a", **M)
c("4", "-j SECMARK --selctx a --selctx b", **M)

# ---------------------------------------------------------------- SET
NOSET = "the ipset does not exist (ruleset)"
FAMILY = "the ipset has the other family (ruleset)"
for fam, s, sm in (("4", "s4", "sm4"), ("6", "s6", "sm6")):
    for dirs in ("src", "dst", "src,dst", "dst,src", "src,src,src", "src,dst,src,dst,src,dst"):
        c(fam, f"-j SET --add-set {s} {dirs}", **M, note=f"SET dirs {dirs}")
    c(fam, f"-j SET --del-set {s} dst", **M)
    c(fam, f"-j SET --add-set {s} src --exist", **M)
    c(fam, f"-j SET --add-set {s} src --timeout 600", **M)
    c(fam, f"-j SET --map-set {sm} src --map-mark", **M)
    c(fam, f"-j SET --map-set {sm} src --map-prio", table="mangle", chain="POSTROUTING")
    c(fam, f"-j SET --map-set {sm} dst --map-queue --map-prio --map-mark", table="mangle", chain="FORWARD")
    c(
        fam,
        f"-j SET --map-set {sm} src --map-mark --del-set {s} dst --timeout 5 --exist --add-set {s} src",
        **M,
        note="SET order",
    )
    c(fam, "-j SET --add-set sl src", **M, note="list:set (any family)")
    c(fam, f"-j SET --add-set {s} src", table="filter", chain="X")
for dirs, note in [
    ("src,dst,src,dst,src,dst,src", "seven"),
    ("srcx", "prefix of a word"),
    ("dstination", ""),
    ("sr", "too short"),
    ("SRC", "upper case"),
    ("", "empty"),
    ("src,", "empty element"),
    (",src", "empty element"),
    ("src dst", "space"),
    ("any", ""),
]:
    c("4", ["-j", "SET", "--add-set", "s4", dirs], **M, note=f"SET dirs {note or dirs}")
for opts, note in [
    ("--add-set s4 src --add-set s4 dst", "add twice"),
    ("--add-set s4 src --del-set s4 src", "add and del"),
    ("--del-set s4 src --add-set s4 dst", "del then add"),
    ("--add-set s4 src --timeout 0", ""),
    ("--add-set s4 src --timeout 0x10", ""),
    ("--add-set s4 src --timeout 010", ""),
    ("--add-set s4 src --timeout 4294967294", ""),
    ("--add-set s4 src --timeout 4294967295", ""),
    ("--add-set s4 src --timeout -1", ""),
    ("--add-set s4 src --timeout 10 --timeout 20", "timeout twice"),
    ("--add-set s4 src --exist --exist", "exist twice"),
    ("--timeout 10 --add-set s4 src", "timeout first"),
    ("--exist --add-set s4 src", "exist first"),
    ("--del-set s4 src --exist", "exist with del"),
    ("--del-set s4 src --timeout 5", "timeout with del"),
    ("--map-set s4 src", "map without flags"),
    ("--map-set sm4 src --map-mark --map-mark", "map-mark twice"),
    ("--add-set s4 src --map-mark", "map flag without map-set"),
    ("--map-set s4 src --map-mark", "map-set on a set without skbinfo"),
    ("--map-set sm4 src --map-mark --exist", "exist with map"),
    ("--add-set s4n3 src,dst,src", "3 dims"),
    ("--add-set s4n3 src", "fewer dirs than dims"),
    ("--add-set s4ip src,dst,src,dst", "more dirs than dims"),
    ("", "no set"),
    ("--exist", "no set"),
    ("! --add-set s4 src", ""),
    ("--add-set ! s4 src", ""),
    ("--add-set=s4 src", ""),
    ("--add-set s4", "one value"),
    ("--add-set s4 --exist", "flag as dirs"),
    ("--add-set s4 -x", "dash value"),
    ("--add-set s4 !src", ""),
    ("--add-set s4 src ! --exist", "'!' on a flag"),
    ("--add-set s4 src ! --timeout 5", ""),
    ("! --del-set s4 src", ""),
    ("! --map-set sm4 src --map-mark", ""),
    ("--map-set sm4 src ! --map-prio", ""),
    ("--add-set s4 dst --del-set s4 dst --del-set s4 src", "del twice"),
    ("--map-set sm4 src --map-set sm4 dst --map-mark", "map twice"),
]:
    c("4", f"-j SET {opts}", **M, note=f"SET {note}".strip())
c("4", ["-j", "SET", "--add-set", "s" * 31, "src"], **M, note="SET 31-byte name")
c("4", ["-j", "SET", "--add-set", "s" * 32, "src"], **M, note="SET 32-byte name")
c("4", "-j SET --add-set nosuch src", **M, context=NOSET)
c("4", "-j SET --add-set S4 src", **M, note="SET set names are case-sensitive", context=NOSET)
c("4", "-j SET --add-set s6 src", **M, context=FAMILY)
c("6", "-j SET --add-set s4 src", **M, context=FAMILY)
c("4", "-j SET --map-set sm4 src --map-mark", table="filter", chain="X", context="--map-set only in mangle (table)")
c(
    "4",
    "-j SET --map-set sm4 src --map-prio",
    table="mangle",
    chain="PREROUTING",
    context="--map-prio/--map-queue only in FORWARD, OUTPUT, POSTROUTING (hook)",
)

# ---------------------------------------------------------------- TCPOPTSTRIP
for opts, note in [
    ("", "no options"),
    ("--strip-options mss", ""),
    ("--strip-options wscale", ""),
    ("--strip-options sack-permitted", ""),
    ("--strip-options sack", ""),
    ("--strip-options timestamp", ""),
    ("--strip-options md5", ""),
    ("--strip-options wscale,mss,sack-permitted,sack,timestamp,md5", "all names"),
    ("--strip-options 2,3,4,5,6,7", ""),
    ("--strip-options 8,2", "order"),
    ("--strip-options 255", ""),
    ("--strip-options 254,2", ""),
    ("--strip-options 256", ""),
    ("--strip-options 0", ""),
    ("--strip-options 1", ""),
    ("--strip-options 1,2", ""),
    ("--strip-options 0x13", "hex"),
    ("--strip-options 010", "octal"),
    ("--strip-options 08", ""),
    ("--strip-options ' 2'", "leading blank"),
    ("--strip-options 2,2", "duplicate"),
    ("--strip-options mss,2", "duplicate by name"),
    ("--strip-options MSS", "upper case"),
    ("--strip-options Timestamp", ""),
    ("--strip-options sack-perm", "prefix"),
    ("--strip-options ''", "empty"),
    ("--strip-options 2,", "empty element"),
    ("--strip-options ,2", "empty element"),
    ("--strip-options 2,,3", ""),
    ("--strip-options 2:3", ""),
    ("--strip-options -2", ""),
    ("--strip-options 2 --strip-options 3", "twice"),
    ("! --strip-options 2", ""),
    ("--strip-options=2,3", ""),
]:
    c("46", f"-p tcp -j TCPOPTSTRIP {opts}", **M, note=f"TCPOPTSTRIP {note}".strip())
c(
    "46",
    "-p tcp -j TCPOPTSTRIP --strip-options "
    + ",".join(str(n) for n in range(255, 1, -1)),
    **M,
    note="TCPOPTSTRIP every option",
)
c("4", "-j TCPOPTSTRIP --strip-options 2", **M, note="TCPOPTSTRIP needs -p tcp")
c("4", "-p udp -j TCPOPTSTRIP --strip-options 2", **M)
c("4", "! -p tcp -j TCPOPTSTRIP --strip-options 2", **M)
c("6", "-p 6 -j TCPOPTSTRIP --strip-options 2", **M)
c("4", "-p tcp -j TCPOPTSTRIP --strip-options 2", table="mangle", chain="POSTROUTING")
c("4", "-p tcp -j TCPOPTSTRIP --strip-options 2", context=TABLE_MANGLE)

# ---------------------------------------------------------------- TEE
for gw, note in [
    ("10.0.0.1", ""),
    ("192.0.2.255", ""),
    ("255.255.255.255", ""),
    ("0.0.0.0", "zero"),
    ("10.1", "short form"),
    ("10.1.2", "three parts"),
    ("167772161", "one number"),
    ("0xa000001", "hex number"),
    ("0x0a.0.0.1", "hex part"),
    ("010.0.0.1", "octal part"),
    ("10.0.0.08", "bad octal"),
    ("10.0.0.256", ""),
    ("10.0.0.1/32", "prefix"),
    ("10.0.0.1.", "trailing dot"),
    (" 10.0.0.1", "leading blank"),
    ("10.0.0.1 ", "trailing blank"),
    ("localhost", "host name"),
    ("2001:db8::1", "IPv6 address"),
    ("", "empty"),
]:
    c("4", ["-j", "TEE", "--gateway", gw], **M, note=f"TEE {note or gw}")
for gw, note in [
    ("2001:db8::1", ""),
    ("2001:DB8:0:0:0:0:0:1", "upper case, uncompressed"),
    ("::1", ""),
    ("::", "zero"),
    ("::ffff:1.2.3.4", "v4-mapped"),
    ("::1.2.3.4", "v4-compatible"),
    ("fe80::1", "link-local"),
    ("fe80::1%lo", "scope id"),
    ("[2001:db8::1]", "brackets"),
    ("2001:db8::1/128", "prefix"),
    ("10.0.0.1", "IPv4 address"),
    ("localhost", "host name"),
    ("ip6-localhost", "host name"),
]:
    c("6", ["-j", "TEE", "--gateway", gw], **M, note=f"TEE v6 {note or gw}")
for opts, note in [
    ("--gateway 10.0.0.1 --oif eth0", ""),
    ("--oif eth0 --gateway 10.0.0.1", "order"),
    ("--oif eth0", "no gateway"),
    ("--gateway 10.0.0.1 --gateway 10.0.0.2", "twice"),
    ("! --gateway 10.0.0.1", ""),
    ("--gateway 10.0.0.1 ! --oif eth0", ""),
    ("--gateway=10.0.0.1 --oif=lo", ""),
    ("--gateway 10.0.0.1 --oif eth+", "wildcard-looking"),
]:
    c("4", f"-j TEE {opts}", **M, note=f"TEE {note}".strip())
for oif, note in [
    ("abcdefghijklmno", "15 bytes"),
    ("abcdefghijklmnop", "16 bytes: cut?"),
    ("abcdefghijklmnopqrstu", "21 bytes"),
    ("é" * 8, "16 bytes of 2-byte characters"),
    ("abcdefghijklmné", "16 bytes, cut inside a character"),
    ("abcdefghijklmnoé", "17 bytes, cut at a boundary"),
    ("a b", "space"),
    ("", "empty"),
    ("a/b", "slash"),
]:
    c("4", ["-j", "TEE", "--gateway", "10.0.0.1", "--oif", oif], **M, note=f"TEE oif {note}")
c("6", "-j TEE --gateway 2001:db8::1 --oif veth0", **M)
c("4", "-j TEE --gateway 10.0.0.1", table="mangle", chain="PREROUTING")
c("6", "-j TEE --gateway 2001:db8::1", table="mangle", chain="OUTPUT")
c("4", "-j TEE --gateway 10.0.0.1", note="TEE in filter (no table restriction)")
c("6", "-j TEE --gateway 2001:db8::1", table="raw", chain="X")

# ---------------------------------------------------------------- ULOG (removed from Linux 3.17)
for opts in (
    "",
    "--ulog-nlgroup 1",
    "--ulog-prefix x",
    "--ulog-cprange 100",
    "--ulog-qthreshold 10",
    "--ulog-nlgroup 2 --ulog-prefix x --ulog-cprange 10 --ulog-qthreshold 5",
    "--ulog-nlgroup 33",
    "--ulog-qthreshold 0",
):
    c("46", f"-j ULOG {opts}".strip(), note="ULOG")

# ---------------------------------------------------------------- strings cut at a byte limit
CUTS = [
    ("--comment", 255, ["-m", "comment", "--comment"], ["-j", "ACCEPT"]),
    ("--log-prefix", 29, ["-j", "LOG", "--log-prefix"], []),
    ("--nflog-prefix", 127, ["-j", "NFLOG", "--nflog-prefix"], []),
    ("--nflog-prefix", 63, ["-j", "NFLOG", "--nflog-prefix"], []),
    ("--name", 199, ["-m", "recent", "--set", "--name"], []),
]
for option, limit, head, tail in CUTS:
    for text, note in [
        ("x" * (limit + 1), "one byte over"),
        ("x" * (limit + 40), "40 bytes over"),
        ("a" + "é" * ((limit + 1) // 2), "cut at a character boundary?"),
        ("é" * ((limit + 2) // 2), "cut inside a 2-byte character?"),
        ("x" * (limit - 1) + "é", "2-byte character across the limit"),
        ("x" * limit + "é", "2-byte character right after the limit"),
        ("x" * (limit - 2) + "€", "3-byte character across the limit"),
        ("x" * (limit - 1) + "€", "3-byte character across the limit"),
        ("x" * (limit - 3) + "😀", "4-byte character across the limit"),
        ("x" * (limit - 4) + "😀", "4-byte character ending at the limit"),
        ("x" * limit + "😀", "4-byte character right after the limit"),
    ]:
        c("4", [*head, text, *tail], note=f"{option} {len(text.encode())} bytes: {note}")
c("6", ["-j", "LOG", "--log-prefix", "y" * 35], note="--log-prefix 35 bytes v6")
c("6", ["-j", "NFLOG", "--nflog-prefix", "z" * 140, "--nflog-group", "3"], note="--nflog-prefix 140 bytes v6")
c("6", ["-m", "comment", "--comment", "c" * 300, "-j", "ACCEPT"], note="--comment 300 bytes v6")
c("6", ["-m", "recent", "--rcheck", "--name", "r" * 220], note="--name 220 bytes v6")
