"""Probe cases for the sctp match (group "sctp"): ports and --chunk-types.

Modes, every chunk name libxt_sctp knows (and their case), ALL and NONE,
list order and duplicates, chunk flags (case, which chunk takes which, the
limit of four chunk types with flags), ``!``, the two-argument form, the
protocol the kernel needs, and the port options. Exec'd by scripts/capture/canonical_probe.py with
``c`` in scope; measured on the host kernel (it has xt_sctp):

    .venv/bin/python scripts/capture/canonical_probe.py --cases docs/canonical/cases/sctp.py \
        --out docs/canonical/vectors/sctp.json

Port names from /etc/services are tagged by the probe (``env``) and are
checked by tests/unit/test_canonical_sctp.py with this host's names. See
docs/canonical/spec-sctp.md for what the vectors show.
"""



M = "-p sctp -m sctp "
CHUNKS = (
    "DATA", "INIT", "INIT_ACK", "SACK", "HEARTBEAT", "HEARTBEAT_ACK", "ABORT", "SHUTDOWN", "SHUTDOWN_ACK",
    "ERROR", "COOKIE_ECHO", "COOKIE_ACK", "ECN_ECNE", "ECN_CWR", "SHUTDOWN_COMPLETE", "I_DATA", "RE_CONFIG",
    "PAD", "ASCONF", "ASCONF_ACK", "FORWARD_TSN", "I_FORWARD_TSN",
)  # fmt: skip


def ct(fam: str, mode: str, chunks: str, note: str = "", *, head: str = M, tail: str = " -j ACCEPT") -> None:
    """One --chunk-types case, the two values given as separate arguments (they may hold blanks)."""
    c(fam, [*head.split(), "--chunk-types", mode, chunks, *tail.split()], note=note)


# ---------------------------------------------------------------- protocol the kernel needs
for proto in ("", "-p sctp ", "-p 132 ", "-p SCTP ", "! -p sctp ", "-p tcp ", "-p all "):
    c("46", proto + "-m sctp -j ACCEPT", note="sctp: -p sctp without '!'")
    c("46", proto + "-m sctp --dport 1 -j ACCEPT")
    c("46", proto + "-m sctp --chunk-types any DATA -j ACCEPT")
c("46", "-p sctp --chunk-types any DATA -j ACCEPT", note="implicit sctp")
c("46", "-p sctp --sport 1 --dport 2 --chunk-types all INIT -j ACCEPT", note="implicit sctp")
c("46", "-p 132 --dport 2 -j ACCEPT", note="implicit sctp by number")
c("46", "--dport 2 -j ACCEPT", note="no -p: no implicit match")

# ---------------------------------------------------------------- modes
for mode in ("all", "any", "only", "ALL", "Any", "oNLy", "none", "NONE", "", "al", "anyx", "a", " any",
             "only "):  # fmt: skip
    ct("46", mode, "DATA", note="mode: all, any, only (case-insensitive)")
for mode in ("all", "any", "only"):
    ct("46", mode, "DATA", head="-p sctp -m sctp !", note="negated")
    for keyword in ("ALL", "all", "All", "NONE", "none", "NoNe"):
        ct("46", mode, keyword, note="ALL / NONE")
        ct("46", mode, keyword, head="-p sctp -m sctp !")

# ---------------------------------------------------------------- every chunk name
for mode in ("all", "any", "only"):
    for name in CHUNKS:
        ct("46", mode, name, note="chunk names")
for name in CHUNKS:
    ct("46", "any", name.lower(), note="chunk names are case-insensitive")
    ct("46", "all", name.title())
for name in ("DAT", "DATAX", "I-DATA", "i_data ", " DATA", "0", "1", "0x0", "64", "UNKNOWN", "ALL,DATA",
             "DATA,ALL", "NONE,DATA", "DATA,NONE", "ALL,ALL", "NONE,NONE", "ECNE", "CWR", "RECONF"):  # fmt: skip
    ct("46", "any", name, note="unknown chunk names (numbers too)")

# ---------------------------------------------------------------- lists: order, duplicates, empty items
for chunks in (
    "INIT,DATA",
    "DATA,INIT",
    "I_FORWARD_TSN,ASCONF,FORWARD_TSN,PAD,RE_CONFIG,ASCONF_ACK,I_DATA,SHUTDOWN_COMPLETE,DATA",
    "ASCONF,ASCONF_ACK",
    "FORWARD_TSN,ASCONF,I_FORWARD_TSN",
    "DATA,DATA",
    "DATA,data,Data",
    "INIT,DATA,INIT",
    ",DATA",
    "DATA,",
    "DATA,,INIT",
    ",",
    ",,",
    "",
    " ",
    "DATA, INIT",
    "DATA;INIT",
    ",".join(CHUNKS),
    ",".join(reversed(CHUNKS)),
    ",".join(name.lower() for name in CHUNKS),
):
    for mode in ("all", "any", "only"):
        ct("46", mode, chunks, note="list: printed by chunk type, each once")
    ct("46", "all", chunks, head="-p sctp -m sctp !")

# ---------------------------------------------------------------- chunk flags
FLAGS = (
    "DATA:I", "DATA:U", "DATA:B", "DATA:E", "DATA:i", "DATA:u", "DATA:b", "DATA:e", "DATA:IUBE", "DATA:iube",
    "DATA:EBUI", "DATA:eBuI", "DATA:Bb", "DATA:bB", "DATA:BB", "DATA:bb", "DATA:", "DATA:-", "DATA:--",
    "DATA:-B", "DATA:B-", "DATA:T", "DATA:t", "DATA:x", "DATA:B:E", "DATA:B,E", "DATA:1", "DATA: B",
    "ABORT:T", "ABORT:t", "ABORT:-", "ABORT:TT", "ABORT:Tt", "ABORT:tT", "ABORT:B", "ABORT:-T",
    "SHUTDOWN_COMPLETE:T", "SHUTDOWN_COMPLETE:t", "SHUTDOWN_COMPLETE:E",
    "INIT:T", "INIT:-", "INIT:", "INIT:--", "INIT:b", "HEARTBEAT:-", "ECN_CWR:-", "COOKIE_ACK:-",
    "I_DATA:B", "I_DATA:IUBE", "I_DATA:iube", "I_DATA:T", "I_DATA:-", "I_DATA:",
    "RE_CONFIG:-", "PAD:-", "ASCONF:-", "ASCONF_ACK:-", "FORWARD_TSN:-", "I_FORWARD_TSN:-", "PAD:T",
    "data:b", "abort:T", "ALL:B", "NONE:B", ":B", ":", "DATA:B,INIT", "INIT,DATA:e",
    "DATA:B,DATA:e", "DATA:B,DATA:b", "DATA:b,DATA:B", "DATA:I,DATA:U,DATA:B,DATA:E", "DATA:B,DATA",
    "DATA,DATA:B", "DATA:B,ABORT:T", "ABORT:t,DATA:Be,SHUTDOWN_COMPLETE:T",
)  # fmt: skip
for chunks in FLAGS:
    ct("46", "any", chunks, note="chunk flags: upper set, lower clear, printed in IUBE order")
for chunks in ("DATA:B", "ABORT:T", "DATA:B,ABORT:t", "I_DATA:B", "INIT:-"):
    ct("46", "all", chunks, note="flags with every mode")
    ct("46", "only", chunks)
    ct("46", "any", chunks, head="-p sctp -m sctp !")
# at most four chunk types with flags (XT_NUM_SCTP_FLAGS)
for chunks in (
    "DATA:B,ABORT:T,SHUTDOWN_COMPLETE:T,INIT:-",
    "DATA:B,ABORT:T,SHUTDOWN_COMPLETE:T,INIT:-,SACK:-",
    "DATA:B,ABORT:T,SHUTDOWN_COMPLETE:T,I_DATA:E",
    "DATA:B,ABORT:T,SHUTDOWN_COMPLETE:T,I_DATA:E,PAD:-",
    "DATA:B,DATA:E,DATA:I,DATA:U,ABORT:T,ABORT:t,SHUTDOWN_COMPLETE:T,INIT:-",
    "DATA:B,ABORT:T,SHUTDOWN_COMPLETE:T,INIT:-,DATA:e",
    "DATA:B,ABORT:T,SHUTDOWN_COMPLETE:T,INIT:-,SACK",
    "DATA:B,ABORT:T,SHUTDOWN_COMPLETE:T,INIT:-,SACK:",
    "INIT:-,INIT_ACK:-,SACK:-,HEARTBEAT:-",
    "INIT:-,INIT_ACK:-,SACK:-,HEARTBEAT:-,HEARTBEAT_ACK:-",
    "I_DATA:B,RE_CONFIG:-,PAD:-,ASCONF:-",
    "I_DATA:B,RE_CONFIG:-,PAD:-,ASCONF:-,DATA:B",
    "I_DATA:B,RE_CONFIG:-,PAD:-,ASCONF:-,DATA",
    "DATA:B,ABORT:T,SHUTDOWN_COMPLETE:T,INIT:-,ALL",
):
    ct("46", "any", chunks, note="at most 4 chunk types with flags")

# ---------------------------------------------------------------- how the two values are given
c("46", M + "--chunk-types any -j ACCEPT", note="two values: the second may not start with - or !")
c("46", M + "--chunk-types any ! DATA -j ACCEPT")
c("46", M + "--chunk-types any", note="two values at the end")
c("46", M + "--chunk-types any DATA", note="no target")
c("46", M + "--chunk-types")
ct("46", "any", "-DATA")
ct("46", "any", "!DATA")
ct("46", "any", "-")
ct("46", "-any", "DATA", note="the mode is getopt's own argument")
ct("46", "!", "DATA")
c("46", M + "--chunk-types=any DATA -j ACCEPT", note="--opt=value carries the mode")
c("46", M + "--chunk-types=any -j ACCEPT")
c("46", M + "--chunk-t any DATA -j ACCEPT", note="abbreviation")
c("46", M + "--ch any DATA -j ACCEPT")
c("46", M + "--c any DATA -j ACCEPT", note="ambiguous? (only option starting with c)")
c("46", M + "--chunk-types any DATA --chunk-types all INIT -j ACCEPT", note="given twice")
c("46", M + "--chunk-types any DATA -m sctp --chunk-types all INIT -j ACCEPT", note="two sctp matches")
c("46", M + "--chunk-types any DATA --dport 5 ! --sport 6 -j ACCEPT", note="print order: sport dport chunk")
c("46", M + "! --chunk-types only DATA:B ! --dport 5:6 --sport 7 -j ACCEPT")
c("46", "-p sctp -m sctp --chunk-types any DATA -m sctp --dport 5 -j ACCEPT", note="two sctp matches")
c("46", "-p sctp -m sctp --dport 5 -m sctp --dport 6 -j ACCEPT")
c("46", "-p sctp --dport 5 -m sctp --sport 6 -j ACCEPT", note="implicit then explicit")
c("46", "-p sctp -m sctp --chunk-types any DATA -m comment --comment x -j ACCEPT")
c("46", "-p sctp -m comment --comment x -m sctp --chunk-types any DATA -j ACCEPT")
c("46", "-p sctp -m sctp --chunk-types any DATA -j DROP")
c("46", "-p sctp -m sctp --chunk-types any DATA", note="no target")
c("46", "-p sctp -m sctp --chunk-types any DATA -p sctp -j ACCEPT", note="-p given twice")

# ---------------------------------------------------------------- ports
for key in ("--sport", "--dport", "--source-port", "--destination-port"):
    for value in ("0", "1", "22", "65535", "65536", "-1", "1:2", "5:3", "5:5", "0:65535", ":", ":7", "7:",
                  "0:0", "65535:65535", "65535:", ":0", "", "0x10", "010", "08", "0x", " 5", "5 ", "+5",
                  "1:2:3", "1-2", "1,2", "1:0x10", "amqp", "ssh", "nosuchservice", "amqp:amqp", "1:amqp",
                  "AMQP"):  # fmt: skip
        c("46", [*M.split(), key, value, "-j", "ACCEPT"], note="ports: ranges, names by getservbyname(sctp)")
    c("46", [*M.split(), "!", key, "1:2", "-j", "ACCEPT"], note="negated")
    c("46", [*M.split(), "!", key, "0:65535", "-j", "ACCEPT"], note="the full range is printed")
    c("46", [*M.split(), "!", key, "7", "-j", "ACCEPT"])
c("46", M + "--sport 1 --source-port 2 -j ACCEPT", note="given twice (aliases)")
c("46", M + "--dport 1 --destination-port 2 -j ACCEPT")
c("46", M + "--dport 1 --sport 2 -j ACCEPT", note="print order")
c("46", M + "--dport=22 -j ACCEPT", note="--opt=value")
c("46", M + "--sport=1:2 --destination-port=3 -j ACCEPT")
c("46", M + "--sp 22 -j ACCEPT", note="abbreviation")
c("46", M + "--dp 22 -j ACCEPT")
c("46", M + "--source 1.2.3.4 -j ACCEPT", note="--source is -s, not --source-port")
c("46", M + "--destination-p 22 -j ACCEPT", note="abbreviation")
c("46", M + "--sport ! 22 -j ACCEPT", note="old negation form")
c("46", "-p sctp ! --dport 22 -j ACCEPT", note="implicit, negated")
c("46", "-p sctp --sport 1 --dport 2 -j ACCEPT")
c("46", "-p sctp -m multiport --dports 1,2 -m sctp --dport 3 -j ACCEPT")
