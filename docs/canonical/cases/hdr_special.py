"""Header group: vectors test_canonical.py cannot judge line by line (tests/unit/test_canonical_hdr.py does).

    .venv/bin/python scripts/capture/canonical_probe.py --cases docs/canonical/cases/hdr_special.py \
        --out docs/canonical/special/hdr.json

Each case's note starts with its category:

* ``protocols:`` iptables-save prints (or reads) a name from /etc/protocols
  (ipv6header's headers other than hop-by-hop, policy's --proto). Without a
  resolver canonical() answers ``HostDependent``; with one that knows this
  host's protocols it derives the line.
* ``host:`` the name comes from a file no resolver covers (realms, from
  /etc/iproute2/rt_realms) or from the host resolver (host names):
  ``HostDependent`` without a resolver, ``CannotDerive`` with one.
* ``derived:`` canonical() derives it from iptables' own table (ipv6header's
  hop-by-hop), but test_canonical.py refuses every ipv6header rule wholesale.
* ``printed:`` canonical() derives the rule; the saved text differs from the
  rendered line only in quoting (``--path`` is printed with xtables_save_string),
  so the two are compared as parsed rules.
"""



NO_CGROUP = "no such cgroup on this host (kernel)"

# ---------------------------------------------------------------- ipv6header
for header in ("hop-by-hop", "hop", "0", "hop,hop", "hop,,hop", "hop,0"):
    c("6", ["-m", "ipv6header", "--header", header, "-j", "ACCEPT"], note="derived: hop-by-hop")
c("6", "-m ipv6header ! --header hop -j ACCEPT", note="derived: negated")
c("6", "-m ipv6header ! --header hop --soft -j ACCEPT", note="derived: negated, soft")
c("6", "-m ipv6header --header hop --soft -j ACCEPT", note="derived: soft")
c("6", "-m ipv6header --soft --header hop-by-hop -j ACCEPT", note="derived: print order")
c("6", "-m ipv6header --header=hop -j ACCEPT", note="derived: --opt=value")
for header in ("dst", "60", "route", "43", "frag", "44", "auth", "51", "esp", "50", "none", "59", "prot", "protocol",
               "255", "hopopt", "ipv6-opts", "ipv6-route", "ipv6-frag", "ah", "ipv6-nonxt", "hop,0,hopopt", "hop,dst",
               "dst,hop", "none,prot,esp,auth,frag,route,dst,hop", "hop,dst,route,frag,auth,esp,none,prot",
               "hop,ipv6-frag", "ESP", "IPv6-Frag", "ipv6-frag,44,frag"):  # fmt: skip
    c("6", ["-m", "ipv6header", "--header", header, "-j", "ACCEPT"], note="protocols: header names")
c("6", "-m ipv6header ! --header frag --soft -j ACCEPT", note="protocols: negated, soft")

# ---------------------------------------------------------------- realm
for realm in ("0", "1", "0x2a", "42", "4294967295", "1/0xffffffff", "cosmos", "0/0xffffffff", " 0"):
    c("4", ["-m", "realm", "--realm", realm, "-j", "ACCEPT"], note="host: realm names")
c("4", "-m realm ! --realm 0x2a -j ACCEPT", note="host: negated")

# ---------------------------------------------------------------- policy
for proto in ("esp", "ah", "ipcomp", "50", "51", "108", "0x32", "ESP", "AH", "064", "IPSEC-ESP", "IPCOMP"):
    c(
        "46",
        ["-m", "policy", "--dir", "in", "--proto", proto, "-j", "ACCEPT"],
        note="protocols: policy --proto",
    )
c("46", "-m policy --dir in ! --proto 50 -j ACCEPT", note="protocols: negated")
c("46", "-m policy --dir out --pol ipsec --strict --spi 5 --mode transport ! --proto esp --reqid 7 -j ACCEPT",
  note="protocols: element print order")  # fmt: skip
c(
    "4",
    "-m policy --dir in --pol ipsec --strict --reqid 1 --spi 0x1 --proto ipcomp -j ACCEPT",
    note="protocols: policy.t",
)
c("4", "-m policy --dir in --pol ipsec --strict --reqid 1 --spi 0x1 --proto esp --mode tunnel --tunnel-dst 10.0.0.0/8"
  " --tunnel-src 10.0.0.0/8 --next --reqid 2 -j ACCEPT", note="protocols: policy.t, two elements")  # fmt: skip
c("46", "-m policy --dir in --strict --proto esp --next --proto ah --next --proto 108 -j ACCEPT",
  note="protocols: a protocol per element")  # fmt: skip
c("4", "-m policy --dir in --mode tunnel --tunnel-src localhost -j ACCEPT", note="host: host name")

# ---------------------------------------------------------------- cgroup
for path in ("/", "//", "", "/" * 511, "/" * 512):
    c(
        "46",
        ["-m", "cgroup", "--path", path, "-j", "ACCEPT"],
        note="printed: --path quoted",
        context=NO_CGROUP,
    )
c("46", "-m cgroup ! --path / -j ACCEPT", note="printed: --path negated")
c("46", "-m cgroup --path / -j ACCEPT", table="mangle", chain="POSTROUTING", note="printed: in POSTROUTING")
c("46", "-m cgroup --path=/ -j ACCEPT", note="printed: --opt=value")
