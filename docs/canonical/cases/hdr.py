"""Probe cases for the header and packet-property matches (group "hdr").

IPv6 extension headers (dst, hbh, frag, rt, srh, eui64, ipv6header), dccp,
ecn, ipcomp, realm, policy, cpu, quota, socket, cluster, cgroup and bpf, and
which of ah/esp/mh need ``-p`` on which family. Exec'd by scripts/capture/canonical_probe.py with ``c``
in scope; measured on the host kernel (every extension here exists in it):

    .venv/bin/python scripts/capture/canonical_probe.py --cases docs/canonical/cases/hdr.py \
        --out docs/canonical/vectors/hdr.json

Rules whose vectors test_canonical.py cannot compare line by line (names
from the host's files, ipv6header's hop-by-hop, quoted cgroup paths) are in
hdr_special.py. See docs/canonical/spec-hdr.md for what the vectors show.
"""



HOOK = "the hook: the kernel restricts this match to some built-in chains"
KERNEL_BPF = "the kernel's BPF checker refuses the program"
NO_CGROUP = "no such cgroup on this host (kernel)"
NO_PIN = "no pinned BPF object at that path (host)"

# ---------------------------------------------------------------- ah / esp / mh: where -p is needed
for proto in (
    "",
    "-p ah ",
    "-p 51 ",
    "! -p ah ",
    "-p esp ",
    "-p 50 ",
    "! -p esp ",
    "-p tcp ",
    "-p mh ",
    "-p 135 ",
):
    c("46", proto + "-m ah --ahspi 0 -j ACCEPT", note="ah: -p ah on IPv4 only")
    c("46", proto + "-m ah -j ACCEPT")
    c("46", proto + "-m esp --espspi 0 -j ACCEPT", note="esp: -p esp on both families")
    c("46", proto + "-m esp -j ACCEPT")
    c("6", proto + "-m mh --mh-type 1 -j ACCEPT", note="mh: -p mh")
    c("6", proto + "-m mh -j ACCEPT")
c("6", "-p ah --ahspi 5 -j ACCEPT", note="implicit ah")
c("6", "-p esp --espspi 5 -j ACCEPT", note="implicit esp")
c("6", "--ahspi 5 -j ACCEPT", note="no -p: no implicit ah")
c("6", "-m ah --ahspi 1:2 --ahlen 3 --ahres -j ACCEPT")
c("6", "-m ah --ahres --ahlen 3 --ahspi 1:2 -j ACCEPT", note="print order")
c("6", "-m ah --ahlen 0 -j ACCEPT", note="length 0 not printed")
c("6", "-m ah ! --ahlen 0 -j ACCEPT")
c("6", "-m ah ! --ahlen 5 -j ACCEPT")
c("6", "-m ah --ahlen 4294967295 -j ACCEPT")
c("6", "-m ah --ahlen 4294967296 -j ACCEPT")
c("6", "-m ah --ahlen 0x10 -j ACCEPT")
c("6", "-m ah --ahres -j ACCEPT")
c("6", "-m ah ! --ahres -j ACCEPT")
c("4", "-p ah -m ah --ahlen 5 -j ACCEPT", note="--ahlen: ip6tables only")
c("4", "-p ah -m ah --ahres -j ACCEPT")
for spi in ("0", "5", "4294967295", "4294967296", "1:2", "5:3", "0:4294967295", ":", "", ":7", "7:", "1:2:3", "-1",
            "0x10", "010", "08", " 5", "5 ", "a", "1:a", "+5"):  # fmt: skip
    c("6", ["-m", "ah", "--ahspi", spi, "-j", "ACCEPT"], note="mint: UINT32RC")
    c("46", ["-p", "esp", "-m", "esp", "--espspi", spi, "-j", "ACCEPT"])
    c("4", ["-p", "ah", "-m", "ah", "--ahspi", spi, "-j", "ACCEPT"])
c("46", "-p esp -m esp ! --espspi 0:4294967295 -j ACCEPT", note="full range: not printed, even negated")
c("46", "-p esp -m esp ! --espspi 5 -j ACCEPT")
c("6", "-m ah ! --ahspi 0:4294967295 -j ACCEPT")
c("6", "-m ah ! --ahspi 0:4294967294 -j ACCEPT")
for mh in (
    "0",
    "255",
    "256",
    "0:255",
    "1:2",
    "5:3",
    "bu",
    "ba:be",
    "binding-update",
    "BU",
    "b",
    ":",
    "",
    "3:",
):
    c("6", ["-p", "mh", "-m", "mh", "--mh-type", mh, "-j", "ACCEPT"])

# ---------------------------------------------------------------- dst / hbh
for name in ("dst", "hbh"):
    m = f"-m {name} "
    c("6", m + "-j ACCEPT", note="no options")
    c("4", m + "-j ACCEPT", note="ip6tables only")
    for length in ("0", "5", "4294967295", "4294967296", "-1", "0x10", "010", "08", "abc", " 5", ""):
        c("6", ["-m", name, f"--{name}-len", length, "-j", "ACCEPT"])
    c("6", m + f"! --{name}-len 5 -j ACCEPT")
    c("6", m + f"! --{name}-len 0 -j ACCEPT")
    c("6", m + f"--{name}-len=7 -j ACCEPT")
    c("6", m + f"--{name}-len 1 --{name}-len 2 -j ACCEPT", note="given twice")
    for opts in (
        "1", "1:2", "0", "0:1", "0:0", "255", "256", "256:1", "257:3", "511", "1:255", "1:256", "1:0", "1:511",
        "0x10:0x20", "010:010", "08", "-1", "-1:2", "2:-1", "+5", " 5", "5 ", "5: 6", "1,2,3", "3,2,1",
        "1:2,3:4", "1,1", "1,", ",1", "", "1:", ":1", "a", "1:a", "1:2:3", "0x", "18446744073709551615",
        "18446744073709551616", "4294967296", "149:92,12:12,123:12", "1:2,23:42,4:6,8:10,42,23,4:5",
        ",".join(str(k) for k in range(1, 17)),
        ",".join(str(k) for k in range(1, 16)) + ",16:2",
        ",".join(f"{k}:{k}" for k in range(1, 16)) + ",16",
        ",".join(str(k) for k in range(1, 18)),
    ):  # fmt: skip
        c("6", ["-m", name, f"--{name}-opts", opts, "-j", "ACCEPT"])
    c("6", m + f"! --{name}-opts 1 -j ACCEPT", note="--opts cannot be negated")
    c("6", m + f"--{name}-opts 1:2 --{name}-len 5 -j ACCEPT", note="print order: len, opts")
    c("6", m + f"! --{name}-len 42 --{name}-opts 149:92,12:12 -j ACCEPT")
c(
    "6",
    "-m dst --dst-len 1 -m hbh --hbh-len 2 -m dst --dst-len 3 -j ACCEPT",
    note="several matches keep order",
)
c("6", "-m dst --hbh-len 1 -j ACCEPT", note="option of a match not loaded")

# ---------------------------------------------------------------- frag
c("6", "-m frag -j ACCEPT")
c("4", "-m frag -j ACCEPT")
for fid in ("0", "5", "1:42", "42:1", ":", "", "5:", ":5", "0:4294967295", "0:4294967294", "4294967295", "4294967296",
            "-1", "0x10", "010", "1:2:3", "a", " 5", "5:5"):  # fmt: skip
    c("6", ["-m", "frag", "--fragid", fid, "-j", "ACCEPT"])
    c("6", ["-m", "frag", "!", "--fragid", fid, "-j", "ACCEPT"])
for flen in ("0", "42", "4294967295", "4294967296", "-1", "0x2a"):
    c("6", ["-m", "frag", "--fraglen", flen, "-j", "ACCEPT"])
c("6", "-m frag ! --fraglen 42 -j ACCEPT")
c("6", "-m frag ! --fraglen 0 -j ACCEPT")
for flags in ("--fragres", "--fragfirst", "--fragmore", "--fraglast", "--fragfirst --fragmore", "--fragfirst --fraglast",
              "--fraglast --fragmore", "--fragmore --fraglast", "--fraglast --fragfirst --fragres",
              "--fragres --fragres", "! --fragres", "! --fragfirst", "! --fragmore", "! --fraglast"):  # fmt: skip
    c("6", f"-m frag {flags} -j ACCEPT")
c("6", "-m frag --fraglast --fragres --fragfirst --fraglen 42 ! --fragid 1 -j ACCEPT", note="print order")
c("6", "-m frag ! --fragid 1 ! --fraglen 42 --fragres --fragfirst -j ACCEPT")
c("6", "-m frag --fragid=7 -j ACCEPT")
c("6", "-d ff02::fb/128 -p udp -m udp --dport 5353 -m frag --fragmore -j ACCEPT")
c("6", "-d fe80::/64 -p udp --dport 546 -m frag --fraglast -j ACCEPT")

# ---------------------------------------------------------------- rt
c("6", "-m rt -j ACCEPT")
c("4", "-m rt -j ACCEPT")
for rtype in ("0", "1", "2", "255", "256", "4294967295", "4294967296", "-1", "0x2", "a"):
    c("6", ["-m", "rt", "--rt-type", rtype, "-j", "ACCEPT"])
c("6", "-m rt ! --rt-type 1 -j ACCEPT")
c("6", "-m rt ! --rt-type 0 -j ACCEPT")
for sl in (
    "0",
    "5",
    "1:23",
    "23:1",
    ":",
    "",
    "5:",
    ":5",
    "0:4294967295",
    "4294967296",
    "-1",
    "0x10",
    "1:2:3",
):
    c("6", ["-m", "rt", "--rt-segsleft", sl, "-j", "ACCEPT"])
    c("6", ["-m", "rt", "!", "--rt-segsleft", sl, "-j", "ACCEPT"])
for rlen in ("0", "42", "4294967295", "4294967296", "-1"):
    c("6", ["-m", "rt", "--rt-len", rlen, "-j", "ACCEPT"])
c("6", "-m rt ! --rt-len 42 -j ACCEPT")
c("6", "-m rt ! --rt-len 0 -j ACCEPT")
c("6", "-m rt --rt-type 0 --rt-0-res -j ACCEPT")
c("6", "-m rt --rt-0-res -j ACCEPT", note="--rt-0-res needs --rt-type 0 before it")
c("6", "-m rt --rt-0-res --rt-type 0 -j ACCEPT")
c("6", "-m rt --rt-type 1 --rt-0-res -j ACCEPT")
c("6", "-m rt ! --rt-type 0 --rt-0-res -j ACCEPT")
c("6", "-m rt --rt-type 0x0 --rt-0-res -j ACCEPT")
c("6", "-m rt --rt-type 0 ! --rt-0-res -j ACCEPT")
for addrs in ("::1", "2001:db8::1,2001:db8::2", "2001:DB8:0:0:0:0:0:1", "::ffff:1.2.3.4", "1.2.3.4", "localhost",
              "::1,", ",::1", "", "::1/64", "2001:db8::1 ", "::1,::1",
              ",".join(f"2001:db8::{k:x}" for k in range(1, 17)),
              ",".join(f"2001:db8::{k:x}" for k in range(1, 18))):  # fmt: skip
    c("6", ["-m", "rt", "--rt-type", "0", "--rt-0-addrs", addrs, "-j", "ACCEPT"])
c("6", "-m rt --rt-0-addrs ::1 -j ACCEPT", note="needs --rt-type 0")
c("6", "-m rt --rt-0-addrs ::1 --rt-type 0 -j ACCEPT")
c("6", "-m rt --rt-type 1 --rt-0-addrs ::1 -j ACCEPT")
c("6", "-m rt --rt-type 0 ! --rt-0-addrs ::1 -j ACCEPT")
c("6", "-m rt --rt-type 0 --rt-0-addrs ::1 --rt-0-not-strict -j ACCEPT")
c(
    "6",
    "-m rt --rt-type 0 --rt-0-not-strict --rt-0-addrs ::1 -j ACCEPT",
    note="--rt-0-not-strict needs addrs before",
)
c("6", "-m rt --rt-type 0 --rt-0-not-strict -j ACCEPT")
c("6", "-m rt --rt-type 0 --rt-0-addrs ::1 ! --rt-0-not-strict -j ACCEPT")
c("6", "-m rt --rt-0-not-strict -j ACCEPT")
c("6", "-m rt --rt-type 0 --rt-segsleft 1:23 --rt-len 42 --rt-0-res -j ACCEPT")
c("6", "-m rt --rt-type 0 ! --rt-segsleft 1:23 ! --rt-len 42 --rt-0-res -j ACCEPT")
c("6", "-m rt ! --rt-type 1 ! --rt-segsleft 12:23 ! --rt-len 42 -j ACCEPT")
c("6", "-m rt --rt-len 42 --rt-segsleft 3 --rt-type 0 --rt-0-addrs ::2,::1 --rt-0-not-strict --rt-0-res -j ACCEPT",
  note="print order")  # fmt: skip
c("6", "-m rt --rt-type 0 --rt-0-res --rt-0-addrs ::1 --rt-0-not-strict --rt-segsleft 1 --rt-len 2 -j ACCEPT")

# ---------------------------------------------------------------- srh
c("6", "-m srh -j ACCEPT")
c("4", "-m srh -j ACCEPT")
for opt in ("next-hdr", "hdr-len-eq", "hdr-len-gt", "hdr-len-lt", "segs-left-eq", "segs-left-gt", "segs-left-lt",
            "last-entry-eq", "last-entry-gt", "last-entry-lt"):  # fmt: skip
    for value in ("0", "17", "255", "256", "-1", "0x11", "021"):
        c("6", ["-m", "srh", f"--srh-{opt}", value, "-j", "ACCEPT"])
    c("6", f"-m srh ! --srh-{opt} 4 -j ACCEPT")
for value in ("0", "65535", "65536", "0x10", "-1"):
    c("6", ["-m", "srh", "--srh-tag", value, "-j", "ACCEPT"])
c("6", "-m srh ! --srh-tag 0 -j ACCEPT")
for group in ("hdr-len", "segs-left", "last-entry"):
    c("6", f"-m srh --srh-{group}-eq 5 --srh-{group}-gt 3 -j ACCEPT", note="eq/gt/lt share one field")
    c("6", f"-m srh --srh-{group}-lt 9 --srh-{group}-eq 5 -j ACCEPT")
    c("6", f"-m srh ! --srh-{group}-gt 1 --srh-{group}-lt 9 -j ACCEPT")
for sid in ("psid", "nsid", "lsid"):
    for value in ("a::1/64", "a::/64", "a::1", "a::1/128", "a::1/0", "a::1/129", "a::/ffff::", "a::/ffff:0:ffff::",
                  "1.2.3.4", "localhost", "::ffff:1.2.3.4/96", "A::1/64", "a::1/", "a::1/0x40", "a::1/064"):  # fmt: skip
        c("6", ["-m", "srh", f"--srh-{sid}", value, "-j", "ACCEPT"])
    c("6", f"-m srh ! --srh-{sid} b::/128 -j ACCEPT")
c("6", "-m srh --srh-psid a::/64 --srh-nsid b::/128 --srh-lsid c::/0 -j ACCEPT")
c("6", "-m srh ! --srh-psid a::/64 ! --srh-nsid b::/128 ! --srh-lsid c::/0 -j ACCEPT")
c("6", "-m srh --srh-lsid c::1 --srh-tag 7 --srh-psid a::1 --srh-last-entry-lt 1 --srh-next-hdr 17 -j ACCEPT",
  note="print order")  # fmt: skip
c("6", "-m srh --srh-next-hdr 17 --srh-segs-left-eq 1 --srh-last-entry-eq 4 --srh-tag 0 -j ACCEPT")
c("6", "-m srh ! --srh-next-hdr 17 ! --srh-segs-left-eq 0 --srh-tag 0 -j ACCEPT")
c("6", "-m srh --srh-tag 1 --srh-tag 2 -j ACCEPT")

# ---------------------------------------------------------------- eui64
c("6", "-m eui64 -j ACCEPT")
c("4", "-m eui64 -j ACCEPT")
c("6", "-m eui64 -j ACCEPT", chain="INPUT")
c("6", "-m eui64 -j ACCEPT", chain="FORWARD")
c("6", "-m eui64 -j ACCEPT", chain="OUTPUT", context=HOOK)
c("6", "-m eui64 -j ACCEPT", table="raw", chain="PREROUTING")
c("6", "-m eui64 -j ACCEPT", table="mangle", chain="POSTROUTING", context=HOOK)
c("6", "-m eui64 --foo -j ACCEPT")
c("6", "-s 2001:db8::/64 -m eui64 -m comment --comment x -j DROP")

# ---------------------------------------------------------------- ipv6header (names: hdr_special.py)
c("6", "-m ipv6header --soft -j ACCEPT", note="--header is mandatory")
c("6", "-m ipv6header -j ACCEPT")
c("6", "-m ipv6header --header hop ! --soft -j ACCEPT")
c("6", "-m ipv6header --header hop --header dst -j ACCEPT")
c("4", "-m ipv6header --header hop -j ACCEPT")
for header in ("tcp", "6", "HOP", "Hop-By-Hop", "0x2c", "044", "1", "", ",", " hop", "hop ", "hop,1"):
    c("6", ["-m", "ipv6header", "--header", header, "-j", "ACCEPT"], note="unknown header names")

# ---------------------------------------------------------------- dccp (needs -p dccp: an /etc/protocols name)
D = "-p dccp -m dccp "
c("46", D + "-j ACCEPT")
c("46", "-m dccp -j ACCEPT", note="needs -p dccp")
c("46", "-m dccp --dport 1 -j ACCEPT")
c("46", "! -p dccp -m dccp --dport 1 -j ACCEPT")
c("46", "-p tcp -m dccp --dport 1 -j ACCEPT")
c("46", "-p 33 -m dccp --dport 1 -j ACCEPT")
c("46", "-p dccp --dport 1 -j ACCEPT", note="implicit dccp")
c("46", "-p 33 --sport 1 -j ACCEPT")
for key in ("--sport", "--dport", "--source-port", "--destination-port"):
    for ports in ("1", "65535", "65536", "65537", "0", "1:1023", "1024:", ":1023", ":", "", "5:3", "1:2:3", "-1",
                  "0x10", "022", " 22", "22 ", "ssh", "4294967296"):  # fmt: skip
        c("46" if key == "--sport" else "4", ["-p", "dccp", "-m", "dccp", key, ports, "-j", "ACCEPT"])
    c("46", D + f"! {key} 1 -j ACCEPT")
for types in ("REQUEST", "RESPONSE", "DATA", "ACK", "DATAACK", "CLOSEREQ", "CLOSE", "RESET", "SYNC", "SYNCACK",
              "INVALID", "request", "Data", "REQUEST,RESPONSE,DATA,ACK,DATAACK,CLOSEREQ,CLOSE,RESET,SYNC,SYNCACK,INVALID",
              "INVALID,SYNC,REQUEST", "SYNCACK,REQUEST", "ACK,ACK", ",", "", "REQUEST,,DATA", "FOO", "REQ",
              "0", "INVALID,RESET"):  # fmt: skip
    c("46", ["-p", "dccp", "-m", "dccp", "--dccp-types", types, "-j", "ACCEPT"])
c("46", D + "! --dccp-types REQUEST,RESPONSE -j ACCEPT")
for option in ("0", "1", "255", "256", "-1", "0x10", "010"):
    c("46", ["-p", "dccp", "-m", "dccp", "--dccp-option", option, "-j", "ACCEPT"])
c("46", D + "! --dccp-option 4 -j ACCEPT")
c("46", D + "--dccp-option 4 --dccp-types SYNC --dport 2 --sport 1 -j ACCEPT", note="print order")
c("46", D + "! --sport 1 ! --dport 2 ! --dccp-types SYNC ! --dccp-option 4 -j ACCEPT")
c("4", D + "--sport 1 --source-port 2 -j ACCEPT", note="alias given twice")

# ---------------------------------------------------------------- ecn
c("46", "-m ecn -j ACCEPT", note="some option required")
for proto in ("", "-p tcp ", "-p udp ", "! -p tcp ", "-p 6 "):
    c("46", proto + "-m ecn --ecn-tcp-cwr -j ACCEPT", note="CWR/ECE need -p tcp")
    c("46", proto + "-m ecn --ecn-tcp-ece -j ACCEPT")
    c("46", proto + "-m ecn --ecn-ip-ect 1 -j ACCEPT")
for ect in ("0", "1", "2", "3", "4", "-1", "0x3", "03", "08", ""):
    c("46", ["-m", "ecn", "--ecn-ip-ect", ect, "-j", "ACCEPT"])
c("46", "-m ecn ! --ecn-ip-ect 2 -j ACCEPT")
c("46", "-p tcp -m ecn ! --ecn-tcp-cwr -j ACCEPT")
c("46", "-p tcp -m ecn ! --ecn-tcp-ece -j ACCEPT")
c("46", "-p tcp -m ecn --ecn-tcp-ece --ecn-tcp-cwr --ecn-ip-ect 2 -j ACCEPT")
c("46", "-p tcp -m ecn ! --ecn-tcp-ece ! --ecn-tcp-cwr ! --ecn-ip-ect 2 -j ACCEPT")
c("46", "-p tcp -m ecn --ecn-ip-ect 2 --ecn-tcp-cwr --ecn-tcp-ece -j ACCEPT", note="print order")
c("46", "-p tcp -m ecn --ecn-tcp-cwr --ecn-tcp-cwr -j ACCEPT")
c("46", "-p tcp --dport 1 -m ecn --ecn-tcp-ece -j ACCEPT")

# ---------------------------------------------------------------- ipcomp (needs -p ipcomp: an /etc/protocols name)
c("46", "-m ipcomp --ipcompspi 5 -j ACCEPT", note="needs -p ipcomp")
c("46", "-p ipcomp -m ipcomp -j ACCEPT", note="default --ipcompspi 0 is printed")
c("46", "-p 108 -m ipcomp -j ACCEPT")
c("46", "! -p ipcomp -m ipcomp -j ACCEPT")
c("46", "-p ipcomp --ipcompspi 5 -j ACCEPT", note="implicit ipcomp")
for spi in ("0", "18", "4294967295", "4294967296", "1:2", "5:3", "0:4294967295", ":", "", "7:", ":7", "-1", "0x12",
            "1:2:3"):  # fmt: skip
    c("46", ["-p", "ipcomp", "-m", "ipcomp", "--ipcompspi", spi, "-j", "ACCEPT"])
c("46", "-p ipcomp -m ipcomp ! --ipcompspi 18 -j ACCEPT")
c("46", "-p ipcomp -m ipcomp ! --ipcompspi 0:4294967295 -j ACCEPT")
c("46", "-p ipcomp -m ipcomp --compres -j ACCEPT")
c("46", "-p ipcomp -m ipcomp ! --compres -j ACCEPT")
c("46", "-p ipcomp -m ipcomp --compres --ipcompspi 1:2 -j ACCEPT", note="print order")

# ---------------------------------------------------------------- realm (IPv4; names from /etc/iproute2/rt_realms)
c("6", "-m realm --realm 1/0xff -j ACCEPT", note="iptables only")
c("4", "-m realm -j ACCEPT")
for realm in ("1/0xff", "0x1/0x2a", "0/0", "1/0xfffffffe", "4294967295/0xf", "010/010", "4294967296", "cosmos/0xff",
              "1/", "/1", "", "abc", "-1", "1x", "1/0x100000000", "1/0xff/1", " 1/0xff", "1/ 0xff", "1/-1",
              "0x1/0x1"):  # fmt: skip
    c("4", ["-m", "realm", "--realm", realm, "-j", "ACCEPT"])
c("4", "-m realm ! --realm 1/0xff -j ACCEPT")
c("4", "-m realm --realm 1/0xff -j ACCEPT", chain="INPUT")
c("4", "-m realm --realm 1/0xff -j ACCEPT", chain="OUTPUT")
c("4", "-m realm --realm 1/0xff -j ACCEPT", table="mangle", chain="PREROUTING", context=HOOK)

# ---------------------------------------------------------------- policy
P = "-m policy "
c("46", P + "-j ACCEPT", note="--dir is required")
for direction in ("in", "out", "IN", "both", ""):
    c("46", ["-m", "policy", "--dir", direction, "-j", "ACCEPT"])
for pol in ("none", "ipsec", "NONE", "foo"):
    c("46", ["-m", "policy", "--dir", "in", "--pol", pol, "-j", "ACCEPT"])
c("46", P + "--pol ipsec --dir out -j ACCEPT", note="print order")
c("46", P + "--dir in --dir out -j ACCEPT")
c("46", P + "--dir in --strict -j ACCEPT", note="--strict needs an element")
c("46", P + "--dir in --pol none --strict -j ACCEPT")
c("46", P + "--dir in --pol none --reqid 1 -j ACCEPT", note="pol none drops the element")
c("46", P + "--dir in --pol none --reqid 1 --next --spi 2 -j ACCEPT")
c("46", P + "--dir in --strict --strict --reqid 1 -j ACCEPT")
c("46", P + "! --dir in -j ACCEPT")
c("46", P + "--dir in ! --pol ipsec -j ACCEPT")
c("46", P + "--dir in ! --strict --reqid 1 -j ACCEPT")
for reqid in ("0", "1", "4294967295", "4294967296", "0x10", "-1", "010"):
    c("46", ["-m", "policy", "--dir", "in", "--reqid", reqid, "-j", "ACCEPT"])
    c("46", ["-m", "policy", "--dir", "in", "--spi", reqid, "-j", "ACCEPT"])
c("46", P + "--dir in ! --reqid 1 ! --spi 2 -j ACCEPT")
for proto in ("tcp", "6", "256", "-1", "0"):
    c("46", ["-m", "policy", "--dir", "in", "--proto", proto, "-j", "ACCEPT"], note="not ah/esp/ipcomp")
for mode in ("tunnel", "transport", "TUNNEL", "foo"):
    c("46", ["-m", "policy", "--dir", "in", "--mode", mode, "-j", "ACCEPT"])
c("46", P + "--dir in ! --mode tunnel -j ACCEPT")
for addr in ("10.0.0.0/8", "10.1.2.3/8", "10.1.2.3", "10.1.2.3/32", "10.1.2.3/0", "10.1.2.3/255.0.0.0",
             "10.1.2.3/255.0.255.0", "10.1", "010.1.2.3", "10.1.2.3/33", "10.1.2.3/", "0x0a.1.2.3", "10.1.2.3/8/1",
             "4294967295", "10.1.2.3.4", "::1", "10.1.2.3/-1", "10.1.2.3/010", "10.1.2.256", "10.1.65535"):  # fmt: skip
    c("4", ["-m", "policy", "--dir", "in", "--mode", "tunnel", "--tunnel-src", addr, "-j", "ACCEPT"])
for addr in ("2001:db8::/32", "2001:db8::1/32", "2001:db8::1", "2001:db8::1/128", "2001:db8::1/0",
             "2001:db8::1/ffff:ffff::", "2001:db8::1/ffff:0:ffff::", "2001:DB8::1", "10.1.2.3",
             "2001:db8::1/129", "::ffff:10.1.2.3", "2001:db8::1/0x20"):  # fmt: skip
    c("6", ["-m", "policy", "--dir", "in", "--mode", "tunnel", "--tunnel-dst", addr, "-j", "ACCEPT"])
c("4", P + "--dir in --mode tunnel ! --tunnel-src 10.0.0.1 ! --tunnel-dst 10.0.0.2 -j ACCEPT")
c("6", P + "--dir in --mode tunnel --tunnel-src ::1 --tunnel-dst ::2 -j ACCEPT")
c("4", P + "--dir in --tunnel-src 10.0.0.1 -j ACCEPT", note="tunnel addresses need --mode tunnel")
c("4", P + "--dir in --mode transport --tunnel-src 10.0.0.1 -j ACCEPT")
c("4", P + "--dir in ! --mode transport --tunnel-src 10.0.0.1 -j ACCEPT")
c("4", P + "--dir in ! --mode tunnel --tunnel-src 10.0.0.1 -j ACCEPT")
c("4", P + "--dir in --tunnel-src 10.0.0.1 --mode tunnel -j ACCEPT")
c("46", P + "--dir in --next -j ACCEPT", note="--next needs --strict")
c("46", P + "--dir in --reqid 1 --next --spi 2 -j ACCEPT")
c("46", P + "--dir in --strict --reqid 1 --next --spi 2 -j ACCEPT")
c("46", P + "--dir in --strict --reqid 1 --next -j ACCEPT", note="empty last element")
c("46", P + "--dir in --strict --next --reqid 1 -j ACCEPT", note="empty first element")
c(
    "46",
    P + "--dir out --pol ipsec --strict --spi 5 --mode transport --reqid 7 -j ACCEPT",
    note="element print order",
)
c("4", P + "--dir in --pol ipsec --strict --reqid 1 --spi 0x1 --tunnel-dst 10.0.0.0/8 -j ACCEPT")
c("46", P + "--dir in --strict --reqid 1 --next --reqid 2 -j ACCEPT", note="options again after --next")
c("46", P + "--dir in --strict --reqid 1 --next --spi 2 --next --mode tunnel --next ! --reqid 4 -j ACCEPT",
  note="four elements")  # fmt: skip
c("46", P + "--dir in --strict --reqid 1 --next --spi 2 --next --reqid 3 --next --reqid 4 --next --reqid 5 -j ACCEPT",
  note="five elements")  # fmt: skip
c("46", P + "--dir in --reqid 1 --reqid 2 -j ACCEPT", note="twice in one element")
c("46", P + "--dir in --strict --reqid 1 --next --spi 2 --spi 3 -j ACCEPT")
c("46", P + "--dir in --strict --mode tunnel --next --mode transport --mode tunnel -j ACCEPT")
c("4", P + "--dir in --strict --mode tunnel --tunnel-src 10.0.0.1 --next --tunnel-src 10.0.0.2 -j ACCEPT",
  note="each element checks its own mode")  # fmt: skip
c(
    "4",
    P
    + "--dir in --strict --mode tunnel --tunnel-src 10.0.0.1 --next --mode tunnel --tunnel-dst 10.0.0.2 -j ACCEPT",
)
c("46", P + "--dir in --pol none --mode tunnel -j ACCEPT", note="pol none ignores the element")
c("4", P + "--dir in --pol none --tunnel-src 10.0.0.1 -j ACCEPT", note="not checked with pol none")
c("46", P + "--dir in --pol none --reqid x -j ACCEPT", note="values still parsed")
c("46", P + "--dir in --pol none --proto esp -j ACCEPT", note="pol none: the protocol is not printed")
c("46", P + "--dir in --next --strict --reqid 1 --reqid 2 -j ACCEPT")
c(
    "4",
    P + "--dir in --pol ipsec --strict --tunnel-src 10.0.0.1 --mode tunnel --tunnel-dst 10.0.0.2 -j ACCEPT",
)
c("46", P + "--dir out -j ACCEPT", chain="INPUT", context=HOOK)
c("46", P + "--dir in -j ACCEPT", chain="OUTPUT", context=HOOK)
c("46", P + "--dir in -j ACCEPT", chain="INPUT")
c("46", P + "--dir out -j ACCEPT", chain="OUTPUT")
c("46", P + "--dir in --pol none -j ACCEPT", chain="FORWARD")

# ---------------------------------------------------------------- cpu / quota
c("46", "-m cpu -j ACCEPT", note="--cpu is required")
c("46", "-m quota -j ACCEPT", note="--quota is required")
for value in ("0", "1", "4294967295", "4294967296", "-1", "0x10", "010", "08", " 3", "3 ", "", "a"):
    c("46", ["-m", "cpu", "--cpu", value, "-j", "ACCEPT"])
for value in ("0", "1", "18446744073709551615", "18446744073709551616", "4294967296", "-1", "0x10", "010", "08",
              " 3", "", "1k"):  # fmt: skip
    c("46", ["-m", "quota", "--quota", value, "-j", "ACCEPT"])
c("46", "-m cpu ! --cpu 0 -j ACCEPT")
c("46", "-m cpu --cpu=2 -j ACCEPT")
c("46", "-m cpu --cpu 1 --cpu 2 -j ACCEPT")
c("46", "-m quota ! --quota 0 -j ACCEPT")
c("46", "-m quota ! --quota 18446744073709551615 -j ACCEPT")
c("46", "-m quota --quota 1 --quota 2 -j ACCEPT")

# ---------------------------------------------------------------- socket
for flags in ("", "--transparent", "--nowildcard", "--restore-skmark", "--transparent --nowildcard",
              "--nowildcard --transparent", "--restore-skmark --nowildcard --transparent",
              "--transparent --restore-skmark", "--nowildcard --restore-skmark", "--transparent --transparent",
              "! --transparent", "! --nowildcard"):  # fmt: skip
    c("46", f"-m socket {flags} -j ACCEPT")
    c("46", f"-m socket {flags} -j ACCEPT", table="mangle", chain="PREROUTING")
c("46", "-m socket -j ACCEPT", chain="INPUT")
c("46", "-m socket -j ACCEPT", chain="OUTPUT", context=HOOK)
c("46", "-m socket -j ACCEPT", table="mangle", chain="POSTROUTING", context=HOOK)
c("46", "-p tcp -m socket --transparent -j ACCEPT", table="mangle", chain="PREROUTING")

# ---------------------------------------------------------------- cluster
CL = "-m cluster "
c("46", CL + "-j ACCEPT")
c("46", CL + "--cluster-total-nodes 3 -j ACCEPT")
c("46", CL + "--cluster-total-nodes 2 --cluster-local-node 2 -j ACCEPT")
c("46", CL + "--cluster-total-nodes 2 --cluster-hash-seed 1 -j ACCEPT", note="no local node")
c("46", CL + "--cluster-local-node 1 --cluster-hash-seed 1 -j ACCEPT", note="no total")
c("46", CL + "--cluster-total-nodes 2 --cluster-local-node 2 --cluster-hash-seed 0xfeedcafe -j ACCEPT")
for total, node in (("1", "1"), ("2", "1"), ("2", "3"), ("32", "32"), ("32", "1"), ("33", "1"), ("0", "1"),
                    ("2", "0"), ("3", "33"), ("0x20", "0x10"), ("-1", "1"), ("4294967296", "1")):  # fmt: skip
    c("46", ["-m", "cluster", "--cluster-total-nodes", total, "--cluster-local-node", node,
             "--cluster-hash-seed", "1", "-j", "ACCEPT"])  # fmt: skip
for total, mask in (("2", "1"), ("2", "3"), ("2", "4"), ("3", "5"), ("32", "32"), ("6", "33"), ("1", "1"), ("2", "0"),
                    ("6", "0x1f"), ("8", "0xff"), ("6", "017")):  # fmt: skip
    c("46", ["-m", "cluster", "--cluster-total-nodes", total, "--cluster-local-nodemask", mask,
             "--cluster-hash-seed", "1", "-j", "ACCEPT"])  # fmt: skip
for seed in ("0", "4294967295", "4294967296", "0xdeadbeef", "-1", "010", ""):
    c("46", ["-m", "cluster", "--cluster-total-nodes", "2", "--cluster-local-node", "1", "--cluster-hash-seed", seed,
             "-j", "ACCEPT"])  # fmt: skip
c("46", CL + "--cluster-total-nodes 2 ! --cluster-local-node 1 --cluster-hash-seed 1 -j ACCEPT")
c("46", CL + "--cluster-total-nodes 2 ! --cluster-local-nodemask 3 --cluster-hash-seed 1 -j ACCEPT")
c("46", CL + "! --cluster-total-nodes 2 --cluster-local-node 1 --cluster-hash-seed 1 -j ACCEPT")
c("46", CL + "--cluster-total-nodes 2 --cluster-local-node 1 ! --cluster-hash-seed 1 -j ACCEPT")
c(
    "46",
    CL
    + "--cluster-total-nodes 4 --cluster-local-node 1 --cluster-local-nodemask 2 --cluster-hash-seed 1 -j ACCEPT",
)
c(
    "46",
    CL + "--cluster-hash-seed 9 --cluster-local-node 3 --cluster-total-nodes 4 -j ACCEPT",
    note="print order",
)
c(
    "46",
    CL
    + "--cluster-total-nodes 4 --cluster-local-node 1 --cluster-local-node 2 --cluster-hash-seed 1 -j ACCEPT",
)
c("46", CL + "--cluster-total-nodes 2 --cluster-local-node 2 --cluster-hash-seed 0xfeedcafe -j ACCEPT",
  table="mangle", chain="PREROUTING")  # fmt: skip

# ---------------------------------------------------------------- cgroup
c("46", "-m cgroup -j ACCEPT", note="--path or --cgroup required")
for classid in ("0", "1", "4294967295", "4294967296", "-1", "0x10", "010", ""):
    c("46", ["-m", "cgroup", "--cgroup", classid, "-j", "ACCEPT"])
c("46", "-m cgroup ! --cgroup 1 -j ACCEPT")
for path in ("/.", ".", "user.slice", "/user.slice", "a b", "x" * 600):
    c("46", ["-m", "cgroup", "--path", path, "-j", "ACCEPT"], context=NO_CGROUP)
c("46", "-m cgroup --cgroup 1 --path / -j ACCEPT", note="one of --path, --cgroup")
c("46", "-m cgroup --path / --cgroup 1 -j ACCEPT")
c("46", "-m cgroup --cgroup 1 -j ACCEPT", chain="OUTPUT")

# ---------------------------------------------------------------- bpf
PROGRAM = "4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0"
for prog in (
    PROGRAM,
    PROGRAM + ",",
    PROGRAM + ",,",
    " " + PROGRAM,
    "4, 48 0 0 9, 21 0 1 6, 6 0 0 1, 6 0 0 0",
    "4,48  0  0  9,21 0 1 6,6 0 0 1,6 0 0 0",
    "4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0 trailing",
    "04,048 00 00 09,21 0 1 6,6 0 0 1,6 0 0 0",
    "+4,+48 0 0 +9,21 0 1 6,6 0 0 1,6 0 0 0",
    "65540,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0",
    "4,65584 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0",
    "4,48 256 0 9,21 0 1 6,6 0 0 1,6 0 0 0",
    "4,48 0 0 4294967305,21 0 1 6,6 0 0 1,6 0 0 0",
    "4,48 0 0 -1,21 0 1 6,6 0 0 1,6 0 0 0",
    "4,48 0 0 0x9,21 0 1 6,6 0 0 1,6 0 0 0",
    "0x4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0",
    "3,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0",
    "5,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0",
    "4 ,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0",
    "4,48 0 0,21 0 1 6,6 0 0 1,6 0 0 0",
    "4,48 0 0 9 21 0 1 6,6 0 0 1,6 0 0 0",
    "0,",
    "1,6 0 0 0",
    "1,6 0 0 65535",
    "1,6 0 0 4294967295",
    "1,22 0 0 0",
    "",
    "1",
    "1,",
    "a,6 0 0 0",
    "1,6 0 0 a",
    "2,48 0 0 9,6 0 0 0",
    "2,6 0 0 0,48 0 0 9",
    "2,32 0 0 4294963200,6 0 0 0",
    "2,32 0 0 4294963300,6 0 0 0",
    "2,21 0 1 6,6 0 0 0",
    "3,21 0 1 6,6 0 0 0,6 0 0 1",
    "2,5 0 0 0,6 0 0 0",
    "3,5 0 0 0,6 0 0 0,6 0 0 1",
    "2,52 0 0 0,6 0 0 0",
    "2,52 0 0 1,6 0 0 0",
    "2,100 0 0 32,6 0 0 0",
    "2,100 0 0 31,6 0 0 0",
    "2,96 0 0 0,6 0 0 0",
    "3,2 0 0 0,96 0 0 0,22 0 0 0",
    "3,2 0 0 16,96 0 0 16,22 0 0 0",
    "3,2 0 0 15,96 0 0 15,22 0 0 0",
    "4,2 0 0 1,21 0 1 6,96 0 0 1,22 0 0 0",
    "5,21 0 2 6,2 0 0 1,96 0 0 1,6 0 0 0,6 0 0 1",
    "5,21 1 0 6,2 0 0 1,96 0 0 1,22 0 0 0,6 0 0 1",
    "2,7 0 0 0,22 0 0 0",
    "2,135 0 0 0,22 0 0 0",
    "2,132 0 0 0,22 0 0 0",
    "2,148 0 0 0,22 0 0 0",
    "2,177 0 0 0,22 0 0 0",
    "2,40 0 0 4294963212,22 0 0 0",
    "2,48 0 0 4294963264,22 0 0 0",
    "2,48 0 0 4294963260,22 0 0 0",
    "65," + ",".join(["6 0 0 0"] * 65),
    "64," + ",".join(["6 0 0 0"] * 64),
):
    c("46", ["-m", "bpf", "--bytecode", prog, "-j", "ACCEPT"])
for prog, why in (
    ("1,22 0 0 0", ""),
    ("1,6 0 0 0", ""),
    ("1,4 0 0 0", ""),
    ("2,4 0 0 0,6 0 0 0", ""),
    ("2,55 0 0 0,6 0 0 0", "undefined code"),
    ("2,21 0 0 6,6 0 0 0", ""),
    ("3,53 1 0 6,6 0 0 0,6 0 0 1", ""),
    ("3,69 1 1 6,6 0 0 0,6 0 0 1", ""),
):
    c("46", ["-m", "bpf", "--bytecode", prog, "-j", "ACCEPT"], note=why)
c("46", "-m bpf -j ACCEPT", note="--bytecode or --object-pinned required")
c("46", ["-m", "bpf", "--object-pinned", "/sys/fs/bpf/nosuch", "-j", "ACCEPT"], context=NO_PIN)
c("46", ["-m", "bpf", "--object-pinned", "", "-j", "ACCEPT"], note="an empty path names nothing")
c("46", ["-m", "bpf", "--object-pinned", "/sys/fs/bpf/a b", "-j", "ACCEPT"], note="printed bare: no blanks")
c("46", ["-m", "bpf", "--bytecode", PROGRAM, "--object-pinned", "/sys/fs/bpf/x", "-j", "ACCEPT"])
c("46", ["-m", "bpf", "!", "--bytecode", PROGRAM, "-j", "ACCEPT"])
c("46", ["-m", "bpf", "--bytecode", PROGRAM, "--bytecode", PROGRAM, "-j", "ACCEPT"])
c("46", ["-m", "bpf", "--bytecode=" + PROGRAM, "-j", "ACCEPT"])
