# Cases of the rate group: hashlimit, time, u32, rateest, osf (and the refusals of connlabel,
# nfacct and ipvs that do not depend on how their values print).
# Exec'd by scripts/capture/canonical_probe.py with c() in scope:
#   .venv/bin/python scripts/capture/canonical_probe.py --cases docs/canonical/cases/rate.py \
#       --out docs/canonical/vectors/rate.json
# Rules the tools accept but canonical() does not answer with a vector-equal line are in
# rate_special.py (-> docs/canonical/special/rate.json): connlabel and nfacct print forms the
# rule renderer cannot reproduce byte for byte ("--label "40"", "--nfacct-name  x"), rateest's
# optional values, and values the tool damages (silently cut, empty day lists, undefined casts).
# ipvs needs a kernel with ip_vs: rate_vm.py, measured in the VM tier.

# Two rate estimators (RE1, RE2) for -m rateest, made by RATEEST rules in a chain of their own.
SETUP = [
    ["{tool}", "-w", "-t", "mangle", "-N", "EST"],
    ["{tool}", "-w", "-t", "mangle", "-A", "EST", "-j", "RATEEST", "--rateest-name", "RE1",
     "--rateest-interval", "250ms", "--rateest-ewmalog", "500ms"],
    ["{tool}", "-w", "-t", "mangle", "-A", "EST", "-j", "RATEEST", "--rateest-name", "RE2",
     "--rateest-interval", "250ms", "--rateest-ewmalog", "500ms"],
]  # fmt: skip

# ---------------------------------------------------------------- hashlimit
H = "-m hashlimit --hashlimit-name h"
c("46", f"{H} --hashlimit-upto 1/sec -j ACCEPT", note="default burst printed")
c("46", "-m hashlimit --hashlimit-upto 1/sec --hashlimit-name x -j ACCEPT", note="issue example")
for rate in (
    "1/sec", "1/second", "1/s", "1/se", "1/SEC", "1/Sec", "5/m", "5/min", "5/minute", "5/mi",
    "7/h", "7/hour", "7/HOUR", "2/d", "2/day", "5", "7abc", " 7/H", "+7/sec", "007/sec",
    "1000000/sec", "1000001/sec", "999999/sec", "500000/sec", "333333/sec", "3/sec", "60/min",
    "61/min", "120/min", "3600/hour", "3601/hour", "86400/day", "24/day", "48/day", "25/day",
    "1/hour", "100/min", "1000/hour", "59/min", "90/min", "1000000/min", "0/sec", "x/sec",
    "5/", "5/seconds", "5/x", "0x10/sec", "-5/sec", "5/ms", "4294967296/sec", "1e3/sec",
    "1.5/sec", "5 /sec",
):  # fmt: skip
    c("4", [*H.split(), "--hashlimit-upto", rate, "-j", "ACCEPT"], note="hashlimit packet rate")
for rate in ("1/sec", "60/min", "5", "7/hour", "1000000/sec"):
    c("6", [*H.split(), "--hashlimit-upto", rate, "-j", "ACCEPT"], note="hashlimit packet rate v6")
for rate in (
    "1b/s", "15b/s", "16b/s", "17b/s", "96b/s", "100b/s", "1000b/s", "1kb/s", "4kb/s", "5kb/s",
    "5kb/sec", "5kb/second", "1023b/s", "1024b/s", "1025b/s", "123456b/s", "10mb/s", "1mb/s",
    "40mb/s", "512kb/s", "1500kb/s", "2048kb/s", "100mb/s", "1000mb/s", "4000mb/s", "65535mb/s",
    "65536mb/s", "1000000mb/s", "0b/s", "0kb/s", "kb/s", "b/s", "5Kb/s", "5xb/s", "5 kb/s",
    "5kB/s", "5kb/S", "5mbps", "1gb/s",
):  # fmt: skip
    c("4", [*H.split(), "--hashlimit-upto", rate, "-j", "ACCEPT"], note="hashlimit byte rate")
for rate in ("1kb/s", "10mb/s", "123456b/s"):
    c("6", [*H.split(), "--hashlimit-upto", rate, "-j", "ACCEPT"], note="hashlimit byte rate v6")
for rate, burst in (
    ("4kb/s", "400kb"), ("123456b/s", "1mb"), ("96b/s", "5"), ("1kb/s", "1kb"), ("1kb/s", "1023"),
    ("1kb/s", "1024"), ("1kb/s", "1025"), ("1kb/s", "2047"), ("1kb/s", "10000"), ("1kb/s", "3mb"),
    ("10mb/s", "100mb"), ("10mb/s", "10mb"), ("10mb/s", "9mb"), ("1kb/s", "1000000"),
    ("1kb/s", "2000000"), ("1kb/s", "5x"), ("1kb/s", "5K"), ("1b/s", "5"), ("16b/s", "1kb"),
    ("100b/s", "1kb"), ("1kb/s", "0x1000"), ("1kb/s", "4096kb"), ("512kb/s", "1mb"),
):  # fmt: skip
    c("4", [*H.split(), "--hashlimit-upto", rate, "--hashlimit-burst", burst, "-j", "ACCEPT"],
      note="hashlimit byte burst")  # fmt: skip
for burst in (
    "1", "5", "10", "0", "1000000", "1000001", "1k", "1m", "2k", "977k", "0x10", "010", "08",
    " 7", "+7", "-1", "7x", "1000001x", "abc", "",
):  # fmt: skip
    c("4", [*H.split(), "--hashlimit-upto", "10/sec", "--hashlimit-burst", burst, "-j", "ACCEPT"],
      note="hashlimit packet burst")  # fmt: skip
for rate, burst in (
    ("1/day", "1"), ("1/day", "2"), ("1/day", "5"), ("1/hour", "30"), ("1/hour", "37"),
    ("1/hour", "38"), ("1/hour", "40"), ("1/hour", "46"), ("1/hour", "47"), ("1/hour", "60"),
    ("2/day", "2"), ("2/day", "3"), ("1/min", "1000000"), ("10/min", "1000000"),
    ("1/sec", "1000000"), ("24/day", "40"), ("3/hour", "100"),
):  # fmt: skip
    c("4", [*H.split(), "--hashlimit-upto", rate, "--hashlimit-burst", burst, "-j", "ACCEPT"],
      note="hashlimit credit overflow (kernel, depends on HZ near the edge)")  # fmt: skip
c("6", f"{H} --hashlimit-upto 1/day --hashlimit-burst 5 -j ACCEPT", note="credit overflow v6")
c("46", f"{H} --hashlimit-above 5/sec -j DROP")
c("46", f"{H} ! --hashlimit-upto 5/sec -j DROP", note="negated upto is above")
c("46", f"{H} ! --hashlimit-above 5/sec -j DROP", note="negated above is upto")
c("4", f"{H} --hashlimit 5/min -j ACCEPT", note="old option name")
c("4", f"{H} ! --hashlimit 5/min -j ACCEPT", note="old option name negated")
c("4", f"{H} --hashlimit 5/min --hashlimit-upto 6/min -j ACCEPT", note="old name and new name")
c("4", f"{H} --hashlimit-upto 5 --hashlimit-upto 6 -j ACCEPT", note="given twice")
c("4", f"{H} --hashlimit-upto 5 --hashlimit-above 6 -j ACCEPT", note="upto with above")
c("4", f"{H} --hashlimit-above 5kb/s -j DROP", note="above in bytes")
c("4", f"{H} ! --hashlimit-above 5kb/s --hashlimit-burst 50kb -j DROP")
c("4", "-m hashlimit --hashlimit-upto 5/sec -j ACCEPT", note="name missing")
c("4", "-m hashlimit --hashlimit-name h -j ACCEPT", note="rate missing")
c("4", "-m hashlimit -j ACCEPT", note="nothing")
c("4", f"{H} --hashlimit-upto=5/sec -j ACCEPT", note="--opt=value")
c("4", "-m hashlimit --hashlimit-name=h --hashlimit-upto 5/sec -j ACCEPT", note="--opt=value name")
for mode in (
    "srcip", "dstip", "srcport", "dstport", "srcip,dstip", "dstport,srcip,dstip,srcport",
    "dstip,srcip", "srcip|dstip", "srcip,,dstip", "srcip,srcip", "", ",", "none", "SRCIP",
    "srcip dstip", "src-ip", "srcip,dstport",
):  # fmt: skip
    c("4", [*H.split(), "--hashlimit-upto", "5", "--hashlimit-mode", mode, "-j", "ACCEPT"],
      note="hashlimit mode")  # fmt: skip
c("6", f"{H} --hashlimit-upto 5 --hashlimit-mode dstport,srcip -j ACCEPT")
for mask in (
    "0", "1", "8", "16", "24", "31", "32", "33", "0x18", "010", "255.255.0.0", "255.255.255.255",
    "0.0.0.0", "255.0.255.0", "4294967040", "255.255.255.128", "-1", "abc", "24x",
):  # fmt: skip
    for key in ("--hashlimit-srcmask", "--hashlimit-dstmask"):
        c("4", [*H.split(), "--hashlimit-upto", "5", "--hashlimit-mode", "srcip,dstip", key, mask,
                "-j", "ACCEPT"], note="hashlimit mask v4")  # fmt: skip
for mask in ("0", "48", "64", "127", "128", "129", "ffff:ffff::", "ffff:0:ffff::", "32", "255.255.0.0"):
    for key in ("--hashlimit-srcmask", "--hashlimit-dstmask"):
        c("6", [*H.split(), "--hashlimit-upto", "5", "--hashlimit-mode", "srcip,dstip", key, mask,
                "-j", "ACCEPT"], note="hashlimit mask v6")  # fmt: skip
c("4", f"{H} --hashlimit-upto 5 --hashlimit-srcmask 24 --hashlimit-dstmask 16 -j ACCEPT")
c("4", f"{H} --hashlimit-upto 5 --hashlimit-dstmask 16 --hashlimit-srcmask 24 -j ACCEPT", note="order")
for key in ("size", "max", "gcinterval", "expire"):
    for value in ("0", "1", "1000", "1024", "60000", "0x10", "010", "1048576", "1048577",
                  "4294967295", "4294967296", "-1", "abc", "08"):  # fmt: skip
        c("4", [*H.split(), "--hashlimit-upto", "5", f"--hashlimit-htable-{key}", value,
                "-j", "ACCEPT"], note=f"hashlimit htable-{key}")  # fmt: skip
c("6", f"{H} --hashlimit-upto 5 --hashlimit-htable-size 64 --hashlimit-htable-max 32 -j ACCEPT")
c("4", f"{H} --hashlimit-upto 5/min --hashlimit-htable-expire 60000 -j ACCEPT", note="expire = default")
c("4", f"{H} --hashlimit-upto 60/min --hashlimit-htable-expire 1000 -j ACCEPT", note="expire = printed unit")
c("4", f"{H} --hashlimit-upto 60/min -j ACCEPT", note="printed unit differs: expire printed")
c("4", f"{H} --hashlimit-upto 1kb/s --hashlimit-htable-expire 15000 -j ACCEPT")
c("4", f"{H} --hashlimit-upto 1kb/s --hashlimit-burst 10kb --hashlimit-htable-expire 15000 -j ACCEPT")
c("4", f"{H} --hashlimit-upto 1kb/s --hashlimit-burst 10kb --hashlimit-htable-expire 60000 -j ACCEPT")
for rate in ("40/sec", "1/min", "60/min", "5/hour", "1/day", "40mb/s", "1kb/s", "1000000/sec",
             "1000000/min", "3/min", "7"):  # fmt: skip
    c("4", [*H.split(), "--hashlimit-upto", rate, "--hashlimit-rate-match", "-j", "ACCEPT"],
      note="rate-match")  # fmt: skip
    c("4", [*H.split(), "--hashlimit-upto", rate, "--hashlimit-rate-match", "--hashlimit-rate-interval",
            "10", "-j", "ACCEPT"], note="rate-match interval")  # fmt: skip
for interval in ("1", "2", "10", "0", "-1", "10abc", "abc", "0x10", " 5", "2147483647", "2147483648"):
    c("4", [*H.split(), "--hashlimit-upto", "5/min", "--hashlimit-rate-match",
            "--hashlimit-rate-interval", interval, "-j", "ACCEPT"], note="rate-interval")  # fmt: skip
c("4", f"{H} --hashlimit-upto 5/min --hashlimit-rate-interval 10 -j ACCEPT", note="interval without rate-match")
c("6", f"{H} --hashlimit-upto 40/sec --hashlimit-burst 20 --hashlimit-rate-match -j ACCEPT")
c("4", f"{H} --hashlimit-upto 40/sec --hashlimit-burst 20 --hashlimit-mode srcip --hashlimit-rate-match"
       " --hashlimit-rate-interval 10 -j ACCEPT")  # fmt: skip
c("4", f"{H} ! --hashlimit-upto 40/min --hashlimit-rate-match -j ACCEPT", note="rate-match above")
for name in ("h", "a" * 15, "a" * 16, "a" * 200, "a" * 254, "a/b", ".", "..", "a.b",
             "a-b_c", "ÄÖ", "a:b"):  # fmt: skip
    c("4", ["-m", "hashlimit", "--hashlimit-upto", "5", "--hashlimit-name", name, "-j", "ACCEPT"],
      note="hashlimit name")  # fmt: skip
c("4", ["-m", "hashlimit", "--hashlimit-upto", "5", "--hashlimit-name", "", "-j", "ACCEPT"], note="empty name")
c("4", f"{H} --hashlimit-upto 10/sec --hashlimit-burst 5 --hashlimit-mode srcip,dstport --hashlimit-htable-size"
       " 512 --hashlimit-htable-max 2048 --hashlimit-htable-gcinterval 500 --hashlimit-htable-expire 9000"
       " --hashlimit-srcmask 24 --hashlimit-dstmask 28 -j ACCEPT", note="every option")  # fmt: skip
c("4", f"-p tcp --dport 22 {H} --hashlimit-upto 3/min -j ACCEPT")
c("4", f"{H} --hashlimit-upto 3/min -m hashlimit --hashlimit-name h2 --hashlimit-above 9/sec -j ACCEPT")
c("4", f"{H} --hashlimit-upto 1/sec -m comment --comment x -j ACCEPT")

# ---------------------------------------------------------------- time
T = "-m time"
for value in (
    "9:0", "09:00", "9:", "9::", "9:05:07", "00:00", "0:0:0", "23:59:59", "23:59", "24:00", "23:60",
    "23:59:60", "+9:05", " 9: 5", "09", "9", "", ":", "9:5:", "9:5:x", "9:x", "-1:00", "0x9:00",
    "09:00:00:00", "12:30:45", "4294967305:00", "1:1:1",
):  # fmt: skip
    c("4", [*T.split(), "--timestart", value, "-j", "ACCEPT"], note="timestart")
    c("4", [*T.split(), "--timestop", value, "-j", "ACCEPT"], note="timestop")
c("6", f"{T} --timestart 09:00 --timestop 17:00 -j ACCEPT")
c("46", f"{T} --timestop 17:00 --timestart 09:00 -j ACCEPT", note="order")
c("4", f"{T} --timestart 17:00 --timestop 09:00 -j ACCEPT", note="over midnight")
c("4", f"{T} --timestart 17:00 --timestop 09:00 --contiguous -j ACCEPT")
c("4", f"{T} --timestart 10:00 --timestop 10:00 --contiguous -j ACCEPT")
c("4", f"{T} --timestart 09:00 --timestop 10:00 --contiguous -j ACCEPT", note="contiguous refused")
c("4", f"{T} --contiguous -j ACCEPT")
c("4", f"{T} --timestart 10:00 --contiguous -j ACCEPT")
c("4", f"{T} --timestop 00:00 --contiguous -j ACCEPT")
c("6", f"{T} --timestart 22:00 --timestop 06:00 --contiguous -j ACCEPT")
for value in (
    "2020", "2020-06", "2020-06-15", "2020-06-15T12", "2020-06-15T12:30", "2020-06-15T12:30:45",
    "2020-1-1T1:2:3", "2020-02-29", "2021-02-29", "2020-02-31", "2020-0", "2020-0-0", "2020-00-15",
    "2020-12-00", "1970", "1970-01-01T00:00:01", "1970-01-01T00:00:00", "1970-0", "1969", "2038",
    "2038-01-19T03:14:07", "2038-01-19T03:14:08", "2038-12-31T23:59:59", "2039", "2020-13",
    "2020-01-32", "2020-01-01T24", "2020-01-01T23:60", "2020-01-01T23:59:60", "2020-01-01T",
    "2020-", "2020-01-", "2020-01-01T12:", "2020/01/01", "2020-01-01 12:00", "20", "+2020",
    " 2020", "2020-01-01T12:00:00Z", "0x7e4", "02020", "abc", "", "2020-01-01t12",
):  # fmt: skip
    c("4", [*T.split(), "--datestart", value, "-j", "ACCEPT"], note="datestart")
    c("4", [*T.split(), "--datestop", value, "-j", "ACCEPT"], note="datestop")
c("6", f"{T} --datestart 2020-01-01 --datestop 2021-01-01 -j ACCEPT")
c("4", f"{T} --datestop 2021 --datestart 2020 -j ACCEPT", note="order")
c("4", f"{T} --datestart 2021 --datestop 2020 -j ACCEPT", note="start after stop")
for value in (
    "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Mon,Tue", "Tue,Mon", "Sun,Mon", "1", "7",
    "1,2,3,4,5", "7,1", "Mo", "Tu", "Monday", "Mox", "mon", "MON", "M", "Sunx", "0", "Mon,8", "0x7", "07", "08", "Mon,,Tue", "Mon,", ",Mon", "Mon,Mon",
    "Mon,Tue,Wed,Thu,Fri,Sat,Sun", "1,2,3,4,5,6,7", "Sa,Su", " 1", "+1", "1x", "0x10", "Mon Tue", "Mon;Tue", "Thursday,Friday",
):  # fmt: skip
    c("4", [*T.split(), "--weekdays", value, "-j", "ACCEPT"], note="weekdays")
for value in ("Mon", "Sat,Sun", "1,7", "Mon,Tue,Wed,Thu,Fri,Sat"):
    c("4", [*T.split(), "!", "--weekdays", value, "-j", "ACCEPT"], note="negated weekdays")
c("6", f"{T} --weekdays Sat,Sun -j ACCEPT")
c("6", f"{T} ! --weekdays Sat,Sun -j ACCEPT")
for value in (
    "1", "31", "15,1", "1,2,3", "31,1,010", "0x1f", "0x1", "08", "010", "32", "0,5", "123",
    "1,,2", "1,", ",1", "-1", " 5", "+5", "5x", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,"
    "17,18,19,20,21,22,23,24,25,26,27,28,29,30,31", "30,31,29", "31,31",
):  # fmt: skip
    c("4", [*T.split(), "--monthdays", value, "-j", "ACCEPT"], note="monthdays")
for value in ("1", "0", "1,15,31", "2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31"):
    c("4", [*T.split(), "!", "--monthdays", value, "-j", "ACCEPT"], note="negated monthdays")
c("6", f"{T} --monthdays 1,15 -j ACCEPT")
c("46", f"{T} --kerneltz -j ACCEPT")
c("4", f"{T} --localtz -j ACCEPT", note="old name, printed --kerneltz")
c("4", f"{T} --kerneltz --localtz -j ACCEPT")
c("4", f"{T} --localtz --kerneltz -j ACCEPT")
c("4", f"{T} --utc -j ACCEPT", note="the default, not printed")
c("4", f"{T} --utc --kerneltz -j ACCEPT")
c("4", f"{T} --kerneltz --utc -j ACCEPT")
c("4", f"{T} --localtz --utc -j ACCEPT")
c("4", f"{T} --utc --localtz -j ACCEPT")
c("4", f"{T} --kerneltz --kerneltz -j ACCEPT", note="given twice")
c("4", f"{T} --weekdays Mon --weekdays Tue -j ACCEPT", note="given twice")
c("4", f"{T} -j ACCEPT", note="no option")
c("4", f"{T} ! --timestart 09:00 -j ACCEPT", note="not invertible")
c("4", f"{T} ! --kerneltz -j ACCEPT", note="not invertible")
c("46", f"{T} --timestart 01:02:03 --timestop 04:05:06 --monthdays 1,2,3,4,5 --weekdays Mon,Fri,Sun"
        " --datestart 2001-02-03T04:05:06 --datestop 2012-09-08T09:06:05 --kerneltz -j ACCEPT",
  note="every option (iptables' own test)")  # fmt: skip
c("4", f"{T} --contiguous --kerneltz --datestop 2030 --datestart 2020 --weekdays Fri,Mon --monthdays 9,3"
       " --timestop 02:00 --timestart 22:00 -j ACCEPT", note="every option, reversed order")  # fmt: skip
c("4", f"{T} --weekdays=Mon -j ACCEPT", note="--opt=value")
c("4", f"{T} --timestart 09:00 -m time --timestop 17:00 -j ACCEPT", note="two time matches")

# ---------------------------------------------------------------- u32
U = "-m u32 --u32"
for expr in (
    "0=1", "0>>22&0x3C@12>>26&0x3F=0x10", "0x0=0x0&&0x0=0x1", " 0 = 1 : 2 , 3 && 4 & 0xff << 2 >> 1 @ 4 = 5",
    "0=2:1", "0=1:1", "0=010", "0=08", "0=0x", "0=0xFFFFFFFF", "0=4294967295", "0=4294967296", "0=-1",
    "0=+1", "0=", "=1", "0=1&&", "0=1&", "0<1=1", "0>1=1", "0 1=1", "0=1,", "0=1:", "0=:1", "0=1,,2",
    "0=1 2", "0&&1=2", "0&1&2&3&4&5&6&7&8&9=1", "0&1&2&3&4&5&6&7&8&9&10=1", "0=1,2,3,4,5,6,7,8,9,10",
    "0=1,2,3,4,5,6,7,8,9,10,11", "0=1&&0=1&&0=1&&0=1&&0=1&&0=1&&0=1&&0=1&&0=1&&0=1",
    "0=1&&0=1&&0=1&&0=1&&0=1&&0=1&&0=1&&0=1&&0=1&&0=1&&0=1", "", " ", "6&0xFF=6", "6&0xff=0x6",
    "0>>22&0x3C@0>>16=0x0:0x200", "6 & 0xFF = 1,6,17", "0&0xFFFF=0x100:0xFFFF", "4&0x3FFF=0x2000",
    "0=1&&4=2", "0=1 && 4=2", "0@4@8=1", "0<<1>>1=1", "0@=1", "0x=1", "0g=1", "0=1g", "0=0x1g",
    "=", "&&", "0=1&&&&1=2", "12=0xC0A80001", "12&0xFFFFFF00=0xC0A80000", "0=2147483648",
    "0=0:4294967295", "00=00", "0=1:0x",
):  # fmt: skip
    c("4", ["-m", "u32", "--u32", expr, "-j", "ACCEPT"], note="u32 expression")
for expr in ("0=1", "0>>22&0x3C@12>>26&0x3F=0x10", "6&0xFF=0x11", "0=1&&4=2"):
    c("6", ["-m", "u32", "--u32", expr, "-j", "ACCEPT"], note="u32 v6")
    c("46", ["-m", "u32", "!", "--u32", expr, "-j", "ACCEPT"], note="u32 negated")
c("4", f"{U} 0=1 --u32 0=2 -j ACCEPT", note="given twice")
c("4", "-m u32 -j ACCEPT", note="no test")
c("4", f"{U} 0=1 -m u32 --u32 4=2 -j ACCEPT", note="two u32 matches")
c("4", "-m u32 --u32=0=1 -j ACCEPT", note="--opt=value")

# ---------------------------------------------------------------- rateest (estimators RE1, RE2)
R = "-m rateest"
for rate in (
    "0", "1", "7", "8", "9", "8bit", "16bit", "5kbit", "5Kbit", "5KBIT", "1kibit", "1Kibit",
    "1.5Mbit", "1.5mbit", "1mibit", "2gbit", "1gibit", "10gbit", "34gbit",
    "1Bps", "1KBps", "1kbps", "1KiBps", "1MBps", "1MiBps", "2GBps", "1GiBps", "999999bit",
    "1000000bit", "999999999bit", "1000000000bit", "1e3", "1e3bit", "0x10", "0x10bit", ".5kbit",
    "1.23456kbit", "12345", "123456789", "5xbit", "5 kbit", "kbit", "5kbits",
    "4294967295Bps", "34359738360bit", "-5", "1e", "1e+3kbit", "1.5",
):  # fmt: skip
    c("4", [*R.split(), "--rateest", "RE1", "--rateest-gt", "--rateest-bps", rate, "-j", "ACCEPT"],
      note="rateest bps")  # fmt: skip
for rate in ("0", "5", "0x10", "010", "4294967295", "4294967296", "-1", "abc", "5x", "1.5"):
    c("4", [*R.split(), "--rateest", "RE1", "--rateest-eq", "--rateest-pps", rate, "-j", "ACCEPT"],
      note="rateest pps")  # fmt: skip
for mode in ("--rateest-lt", "--rateest-gt", "--rateest-eq"):
    c("46", f"{R} --rateest RE1 {mode} --rateest-bps 5kbit -j ACCEPT", note="rateest mode")
    c("46", f"{R} --rateest RE1 ! {mode} --rateest-pps 5 -j ACCEPT", note="rateest negated mode")
    c("4", f"{R} --rateest-delta --rateest RE1 --rateest-bps1 8bit {mode} --rateest-bps2 16bit -j ACCEPT",
      note="rateest delta")  # fmt: skip
    c("4", f"{R} --rateest-delta --rateest RE1 --rateest-pps1 8 ! {mode} --rateest-pps2 9 -j ACCEPT",
      note="rateest delta negated")  # fmt: skip
c("4", f"{R} --rateest RE1 --rateest-bps 1.5Mbit --rateest-gt -j ACCEPT", note="order")
c("4", f"{R} --rateest-gt --rateest-bps 1.5Mbit --rateest RE1 -j ACCEPT", note="order")
c("4", f"{R} --rateest1 RE1 --rateest-gt --rateest-bps 1kbit -j ACCEPT", note="rateest1 without rateest2")
c("4", f"{R} --rateest RE1 --rateest-gt --rateest-bps 5kbit --rateest-pps 3 -j ACCEPT", note="bps and pps")
c("4", f"{R} --rateest RE1 ! --rateest-gt --rateest-bps 5kbit --rateest-pps 3 -j ACCEPT")
c("4", f"{R} --rateest RE1 --rateest-lt --rateest-gt --rateest-bps 5kbit -j ACCEPT", note="two modes")
c("4", f"{R} --rateest RE1 --rateest-gt --rateest-lt --rateest-bps 5kbit -j ACCEPT", note="two modes")
c("4", f"{R} --rateest RE1 ! --rateest-lt --rateest-gt --rateest-bps 5kbit -j ACCEPT")
c("4", f"{R} --rateest RE1 --rateest-gt --rateest-gt --rateest-bps 5kbit -j ACCEPT", note="twice")
c("4", f"{R} --rateest RE1 --rateest-gt -j ACCEPT", note="no bps/pps")
c("4", f"{R} --rateest RE1 --rateest-bps 10 -j ACCEPT", note="no mode")
c("4", f"{R} --rateest-gt --rateest-bps 10 -j ACCEPT", note="no estimator")
c("4", f"{R} -j ACCEPT", note="nothing")
c("4", f"{R} --rateest NOPE --rateest-gt --rateest-bps 1 -j ACCEPT", context="no such estimator (ruleset)")
c("4", f"{R} --rateest1 RE1 --rateest-gt --rateest-bps 1 --rateest2 NOPE -j ACCEPT",
  context="no such estimator (ruleset)")  # fmt: skip
c("4", f"{R} ! --rateest RE1 --rateest-gt --rateest-bps 1 -j ACCEPT", note="not invertible")
c("4", f"{R} --rateest RE1 --rateest-gt ! --rateest-bps 1 -j ACCEPT", note="not invertible")
c("4", f"{R} --rateest RE1 --rateest RE2 --rateest-gt --rateest-bps 1 -j ACCEPT", note="twice")
c("4", f"{R} --rateest RE1 --rateest-gt --rateest-bps 1 --rateest-bps2 2 -j ACCEPT", note="bps is bps2")
c("4", f"{R} --rateest-delta --rateest RE1 --rateest-bps1 1kbit --rateest-gt --rateest-bps2 2kbit"
       " --rateest-pps1 3 --rateest-pps2 4 -j ACCEPT", note="delta bps and pps")  # fmt: skip
c("4", f"{R} --rateest RE1 --rateest-bps1 1kbit --rateest-gt --rateest-bps2 2kbit -j ACCEPT",
  note="bps1 without delta")  # fmt: skip
c("4", f"{R} --rateest-delta --rateest-delta --rateest RE1 --rateest-gt --rateest-bps 1 -j ACCEPT")
c("4", [*R.split(), "--rateest", "a" * 15, "--rateest-gt", "--rateest-bps", "1", "-j", "ACCEPT"],
  context="no such estimator (ruleset)")  # fmt: skip
c("4", [*R.split(), "--rateest", "a" * 16, "--rateest-gt", "--rateest-bps", "1", "-j", "ACCEPT"],
  note="name over 15 bytes")  # fmt: skip
c("6", f"{R} --rateest-delta --rateest RE1 --rateest-pps1 1 --rateest-eq --rateest-pps2 2 -j ACCEPT")

# ---------------------------------------------------------------- osf (IPv4, -p tcp)
c("4", "-p tcp -m osf --genre Linux -j ACCEPT")
c("4", "-p tcp -m osf ! --genre Linux -j ACCEPT")
c("4", "-p tcp -m osf --genre Linux --ttl 0 --log 0 -j ACCEPT", note="iptables' own test")
c("4", "-p tcp -m osf --log 2 --ttl 1 --genre Windows -j ACCEPT", note="order")
for value in ("0", "1", "2", "3", "0x2", "01", "08", "-1", "abc", "4294967296"):
    c("4", ["-p", "tcp", "-m", "osf", "--genre", "Linux", "--ttl", value, "-j", "ACCEPT"], note="osf ttl")
    c("4", ["-p", "tcp", "-m", "osf", "--genre", "Linux", "--log", value, "-j", "ACCEPT"], note="osf log")
for genre in ("a" * 31, "Linux-2.6", "linux", "ÄÖ"):
    c("4", ["-p", "tcp", "-m", "osf", "--genre", genre, "-j", "ACCEPT"], note="osf genre")
c("4", "-m osf --genre Linux -j ACCEPT", note="needs -p tcp")
c("4", "-p udp -m osf --genre Linux -j ACCEPT", note="needs -p tcp")
c("4", "! -p tcp -m osf --genre Linux -j ACCEPT", note="needs -p tcp")
c("4", "-p tcp -m osf --ttl 1 -j ACCEPT", note="genre missing")
c("4", "-p tcp -m osf --genre a --genre b -j ACCEPT", note="twice")
c("4", "-p tcp -m osf --genre Linux ! --ttl 1 -j ACCEPT", note="not invertible")
c("6", "-p tcp -m osf --genre Linux -j ACCEPT", note="IPv4 only")
c("4", "-p tcp -m osf --genre Linux -j ACCEPT", chain="INPUT")
c("4", "-p tcp -m osf --genre Linux -j ACCEPT", chain="OUTPUT", context="osf outside INPUT/FORWARD/PREROUTING (hook)")

# ---------------------------------------------------------------- connlabel / nfacct: refusals only
c("46", "-m connlabel --label 128 -j ACCEPT", note="bit out of range")
c("4", "-m connlabel --label 2048 -j ACCEPT", note="iptables' own test")
c("4", "-m connlabel --set -j ACCEPT", note="label missing")
c("4", "-m connlabel -j ACCEPT", note="nothing")
c("4", ["-m", "connlabel", "--label", "", "-j", "ACCEPT"], note="empty")
c("4", "-m connlabel --label 1 --label 2 -j ACCEPT", note="twice")
c("4", "-m connlabel --label 1 ! --set -j ACCEPT", note="not invertible")
c("4", "-m connlabel --label -1 -j ACCEPT", note="negative: looked up as a name, not found")
c("4", "-m nfacct -j ACCEPT", note="name missing")
c("4", ["-m", "nfacct", "--nfacct-name", "", "-j", "ACCEPT"], note="empty name")
c("4", "-m nfacct --nfacct-name nope -j ACCEPT", context="no such nfacct object (ruleset)")
c("6", "-m nfacct --nfacct-name nope -j ACCEPT", context="no such nfacct object (ruleset)")
c("4", "-m nfacct ! --nfacct-name nope -j ACCEPT", note="not invertible")
c("4", "-m nfacct --nfacct-name a --nfacct-name b -j ACCEPT", note="twice")
c("4", ["-m", "nfacct", "--nfacct-name", "a" * 32, "-j", "ACCEPT"], note="over 31 bytes")
