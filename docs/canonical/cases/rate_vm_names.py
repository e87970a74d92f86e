# Rate group, VM tier (see rate_vm.py): ipvs values looked up in this host's /etc/services
# and /etc/protocols (Debian's). Notes start with "resolver:" (test_canonical_rate.py checks
# them with vnetkit.exec.resolver.HostResolver); names the host does not know are refused.
#   vng ... --exec ".venv/bin/python scripts/capture/canonical_probe.py --cases \
#       docs/canonical/cases/rate_vm_names.py --out docs/canonical/special/rate_vm.json"
for proto in ("TCP", "gre", "nosuchproto"):
    c("4", ["-m", "ipvs", "--vproto", proto, "-j", "ACCEPT"], note="resolver: ipvs vproto name")
for port in ("http", "ssh", "domain", "0x16", "22 ", "nosuchservice", "HTTP", "https", "tftp", "bootps"):
    c("4", ["-m", "ipvs", "--vport", port, "-j", "ACCEPT"], note="resolver: ipvs vport name")
    c("4", ["-m", "ipvs", "--vportctl", port, "-j", "ACCEPT"], note="resolver: ipvs vportctl name")
c("4", "-m ipvs ! --vport ssh -j ACCEPT", note="resolver: negated")
c(
    "4",
    "-m ipvs --vproto tcp --vport http --vaddr 1.2.3.4/255.255.255.0 -j ACCEPT",
    note="resolver: issue example",
)
