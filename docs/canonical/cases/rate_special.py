# Rate group: rules the tools accept whose vectors test_canonical.py cannot compare as lines.
#   .venv/bin/python scripts/capture/canonical_probe.py --cases docs/canonical/cases/rate_special.py \
#       --out docs/canonical/special/rate.json
# Each case's note starts with its category; tests/unit/test_canonical_rate.py checks them:
#   "printed:"  canonical() derives the rule; iptables-save's text differs from the rendered line
#               only in quoting or spacing the renderer does not reproduce (compared as parsed rules);
#   "grammar:"  the rule grammar cannot read the option yet (rateest's optional values);
#   "damaged:"  the tool stores something else than was written (silently cut, an empty day list
#               that prints a line iptables-restore cannot read, a conversion C leaves undefined):
#               canonical() refuses it on purpose.
SETUP = [
    ["nfacct", "add", "acct1"],
    ["nfacct", "add", "a-b.c_d"],
    ["nfacct", "add", "with space"],
    ["nfacct", "add", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"],
    ["{tool}", "-w", "-t", "mangle", "-N", "EST"],
    ["{tool}", "-w", "-t", "mangle", "-A", "EST", "-j", "RATEEST", "--rateest-name", "RE1",
     "--rateest-interval", "250ms", "--rateest-ewmalog", "500ms"],
    ["{tool}", "-w", "-t", "mangle", "-A", "EST", "-j", "RATEEST", "--rateest-name", "RE2",
     "--rateest-interval", "250ms", "--rateest-ewmalog", "500ms"],
]  # fmt: skip

# ---------------------------------------------------------------- printed: connlabel, nfacct
for label in ("0", "1", "40", "127", "0x28", "050", " 5", "+5", "4294967296", "4294967337"):
    c("46", ["-m", "connlabel", "--label", label, "-j", "ACCEPT"], note="printed: connlabel bit, always quoted")
c("46", "-m connlabel ! --label 40 -j ACCEPT", note="printed: connlabel negated")
c("4", "-m connlabel --label 41 --set -j ACCEPT", note="printed: connlabel --set")
c("4", "-m connlabel --set --label 41 -j ACCEPT", note="printed: connlabel order")
c("46", "-m connlabel ! --label 41 --set -j ACCEPT", note="printed: connlabel negated --set")
c("4", "-m connlabel --label 1 -m connlabel --label 2 -j ACCEPT", note="printed: two connlabel matches")
for name in ("acct1", "a-b.c_d", "with space", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"):
    c("46", ["-m", "nfacct", "--nfacct-name", name, "-j", "ACCEPT"], note="printed: nfacct name, two spaces")
c("4", "-m nfacct --nfacct-name acct1 -m nfacct --nfacct-name a-b.c_d", note="printed: two nfacct matches")
c("4", "-p tcp --dport 22 -m nfacct --nfacct-name acct1 -j ACCEPT", note="printed: nfacct with tcp")

# ---------------------------------------------------------------- grammar: rateest optional values
R = "-m rateest"
c("46", f"{R} --rateest1 RE1 --rateest-lt --rateest-bps --rateest2 RE2 -j ACCEPT", note="grammar: relative bps")
c("4", f"{R} --rateest1 RE1 --rateest-gt --rateest-pps --rateest2 RE2 -j ACCEPT", note="grammar: relative pps")
c("4", f"{R} --rateest1 RE1 ! --rateest-eq --rateest-bps --rateest-pps --rateest2 RE2 -j ACCEPT",
  note="grammar: relative bps and pps")  # fmt: skip
c("4", f"{R} --rateest1 RE1 --rateest-lt --rateest-bps 5 --rateest2 RE2 -j ACCEPT",
  note="grammar: relative with a value (dropped)")  # fmt: skip
c("4", f"{R} --rateest-delta --rateest1 RE1 --rateest-pps1 0 --rateest-lt --rateest-pps2 42 --rateest2 RE2"
       " -j ACCEPT", note="grammar: iptables' own test (values read, so the grammar manages)")  # fmt: skip
c("4", f"{R} --rateest-delta --rateest RE1 --rateest-bps1 --rateest-gt --rateest-bps2 -j ACCEPT",
  note="grammar: delta without values")  # fmt: skip
c("4", f"{R} --rateest RE1 --rateest-gt --rateest-bps", note="grammar: value missing at the end")

# ---------------------------------------------------------------- damaged
for value in ("8", "9", "31", "32", "255", "", "-1", "1234"):
    c("4", ["-m", "time", "--weekdays", value, "-j", "ACCEPT"], note="damaged: no weekday left, empty list")
c("4", "-m time ! --weekdays Mon,Tue,Wed,Thu,Fri,Sat,Sun -j ACCEPT", note="damaged: no weekday left")
for value in ("0", "", "-0"):
    c("4", ["-m", "time", "--monthdays", value, "-j", "ACCEPT"], note="damaged: no monthday left, empty list")
c("4", "-m time ! --monthdays 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,"
       "29,30,31 -j ACCEPT", note="damaged: no monthday left")  # fmt: skip
for rate in ("35gbit", "1tbit", "1TBps", "inf", "nan", "4294967296Bps"):
    c("4", [*R.split(), "--rateest", "RE1", "--rateest-gt", "--rateest-bps", rate, "-j", "ACCEPT"],
      note="damaged: rate over 2^32 bytes/s, undefined conversion in the tool")  # fmt: skip
for genre in ("a" * 32, "a" * 40):
    c("4", ["-p", "tcp", "-m", "osf", "--genre", genre, "-j", "ACCEPT"], note="damaged: genre cut to 31 bytes")
c("4", ["-p", "tcp", "-m", "osf", "--genre", "", "-j", "ACCEPT"], note="damaged: empty genre prints nothing")
c("4", ["-p", "tcp", "-m", "osf", "--genre", "Linux 2", "-j", "ACCEPT"], note="damaged: space splits the line")
c("4", ["-m", "hashlimit", "--hashlimit-upto", "5", "--hashlimit-name", "a" * 255, "-j", "ACCEPT"],
  note="damaged: hashlimit name cut to 254 bytes")  # fmt: skip
c("4", ["-m", "nfacct", "--nfacct-name", "a" * 40, "-j", "ACCEPT"], note="damaged: nfacct name cut to 31 bytes")
