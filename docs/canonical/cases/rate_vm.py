# Rate group, measured in the VM tier: -m ipvs needs the ip_vs modules, which this
# machine's kernel lacks. Measured on Debian's 6.1 kernel under QEMU (virtme-ng), with this
# machine's iptables 1.8.9 and its /etc/services and /etc/protocols (Debian's):
#   vng --run /boot/vmlinuz-6.1.0-57-amd64 --disable-kvm --rwdir REPO --exec \
#     ".venv/bin/python scripts/capture/canonical_probe.py --cases docs/canonical/cases/rate_vm.py \
#      --out docs/canonical/vectors/rate_vm.json"
# Service and protocol names (--vport http, --vproto TCP) print what this host's files say:
# they are in rate_vm_names.py (-> docs/canonical/special/rate_vm.json, checked with the
# host's resolver by tests/unit/test_canonical_rate.py).
V = "-m ipvs"
c("46", f"{V} --ipvs -j ACCEPT")
c("46", f"{V} ! --ipvs -j ACCEPT")
for proto in ("tcp", "6", "udp", "17", "sctp", "23", "0", "all", "255", "256", "0x6", "06", "icmp",
              "ipv6-icmp", "mh", "udplite", "esp", "ah", "47", "-1", " 6"):  # fmt: skip
    c("4", ["-m", "ipvs", "--vproto", proto, "-j", "ACCEPT"], note="ipvs vproto")
c("46", f"{V} ! --vproto tcp -j ACCEPT")
c("6", f"{V} --vproto udp -j ACCEPT")
for addr in ("1.2.3.4", "1.2.3.4/32", "1.2.3.4/24", "1.2.3.4/255.255.255.0", "1.2.3.4/0", "1.2.3.4/255.0.255.0",
             "1.2.3.4/33", "1.2.3.4/0x10", "10.1", "010.0.0.1", "0.0.0.0", "0.0.0.0/0", "1.2.3.4/", "2001:db8::1",
             "1.2.3.4/8", "255.255.255.255"):  # fmt: skip
    c("4", ["-m", "ipvs", "--vaddr", addr, "-j", "ACCEPT"], note="ipvs vaddr")
c("4", f"{V} ! --vaddr 1.2.3.4/255.255.255.0 -j ACCEPT", note="issue example part")
for addr in ("2001:db8::1", "2001:db8::1/64", "2001:DB8:0:0:0:0:0:1/128", "::/0", "2001:db8::1/ffff:ffff::",
             "2001:db8::1/ffff:0:ffff::", "::ffff:1.2.3.4", "1.2.3.4", "2001:db8::1/129"):  # fmt: skip
    c("6", ["-m", "ipvs", "--vaddr", addr, "-j", "ACCEPT"], note="ipvs vaddr v6")
for port in ("80", "22", "0", "65535", "65536", "70000", "022", "-1", " 22", "", "+22"):  # fmt: skip
    c("4", ["-m", "ipvs", "--vport", port, "-j", "ACCEPT"], note="ipvs vport")
    c("4", ["-m", "ipvs", "--vportctl", port, "-j", "ACCEPT"], note="ipvs vportctl")
c("46", f"{V} ! --vport 443 -j ACCEPT")
c("46", f"{V} ! --vportctl 21 -j ACCEPT")
for value in ("ORIGINAL", "REPLY", "original", "Reply", "orig", "BOTH", ""):
    c("4", ["-m", "ipvs", "--vdir", value, "-j", "ACCEPT"], note="ipvs vdir")
c("4", f"{V} ! --vdir REPLY -j ACCEPT", note="vdir not invertible")
for value in ("GATE", "IPIP", "MASQ", "gate", "Masq", "TUN", "DR", ""):
    c("4", ["-m", "ipvs", "--vmethod", value, "-j", "ACCEPT"], note="ipvs vmethod")
c("46", f"{V} ! --vmethod IPIP -j ACCEPT")
c("4", f"{V} --vproto 6 --vaddr 1.2.3.4/16 --vport 22 --vdir ORIGINAL --vmethod GATE -j ACCEPT",
  note="iptables' own test")  # fmt: skip
c("4", f"{V} --vportctl 21 --vmethod MASQ --vdir REPLY --vport 22 --vaddr 1.2.3.4 --vproto 6 -j ACCEPT",
  note="every option, reversed order")  # fmt: skip
c(
    "6",
    f"{V} --vproto 6 --vaddr 2001:db8::1/64 --vport 22 --vdir ORIGINAL --vmethod GATE --vportctl 21 -j ACCEPT",
)
c("4", f"{V} --ipvs --vproto 6 -j ACCEPT", note="--ipvs with another option")
c("4", f"{V} ! --ipvs --vproto 6 -j ACCEPT", note="! --ipvs with another option")
c("4", f"{V} --vproto 6 ! --ipvs -j ACCEPT", note="! --ipvs after another option")
c("4", f"{V} ! --vproto 6 ! --vaddr 1.2.3.4 ! --vport 1 ! --vmethod GATE ! --vportctl 2 -j ACCEPT")
c("4", f"{V} -j ACCEPT", note="no option")
c("4", f"{V} --vproto 6 --vproto 17 -j ACCEPT", note="twice")
c("4", f"{V} --ipvs --ipvs -j ACCEPT", note="twice")
c("4", f"{V} --vproto=6 -j ACCEPT", note="--opt=value")
c("4", f"-p tcp --dport 80 {V} --vaddr 10.0.0.1 --vport 80 -j ACCEPT")
