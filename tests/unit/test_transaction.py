"""Transaction: the restore text it renders and the call behind each line (pure, no iptables)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from vnetkit.iptables import Transaction
from vnetkit.iptables.text import join_args, split_line


def test_mixed_calls_render_in_order_per_table() -> None:
    tx = Transaction()
    tx.new_chain("filter", "VNK-A")
    tx.append("filter", "VNK-A", "-p", "tcp", "--dport", "22", "-j", "ACCEPT")
    tx.append("filter", "VNK-A", "-s", "10.0.0.1/32", "-j", "DROP")
    tx.append("nat", "POSTROUTING", "-o", "eth0", "-j", "MASQUERADE")
    tx.insert("filter", "INPUT", 1, "-j", "VNK-A")
    tx.append("filter", "VNK-A", "-m", "comment", "--comment", "two words", "-j", "RETURN")
    tx.change_policy("filter", "FORWARD", "DROP")
    tx.append("filter", "VNK-A", "-j", "LOG", "--log-prefix", "")

    assert tx.tables == ["filter", "nat"]
    assert len(tx) == 8
    assert tx.render() == (
        "*filter\n"
        "-N VNK-A\n"
        "-A VNK-A -p tcp --dport 22 -j ACCEPT\n"
        "-A VNK-A -s 10.0.0.1/32 -j DROP\n"
        "-I INPUT 1 -j VNK-A\n"
        '-A VNK-A -m comment --comment "two words" -j RETURN\n'
        "-P FORWARD DROP\n"
        '-A VNK-A -j LOG --log-prefix ""\n'
        "COMMIT\n"
        "*nat\n"
        "-A POSTROUTING -o eth0 -j MASQUERADE\n"
        "COMMIT\n"
    )
    assert tx.render() == tx.render()  # rendering twice changes nothing


def test_each_line_names_the_call_that_made_it() -> None:
    tx = Transaction()
    tx.append("filter", "INPUT", "-j", "ACCEPT")
    tx.append("filter", "INPUT", "-s", "10.0.0.9", "-j", "DROP")  # deferred: the chain is known now
    tx.delete_by_id("filter", "INPUT", 3)
    tx.render()
    # Line 1 is "*filter"; COMMIT and table headers belong to no call.
    assert tx.op_at(1) is None
    described = [op.describe() if (op := tx.op_at(line)) is not None else None for line in (2, 3, 4)]
    assert described == [
        "append('filter', 'INPUT', '-j', 'ACCEPT')",
        "append('filter', 'INPUT', '-s', '10.0.0.9', '-j', 'DROP')",
        "delete_by_id('filter', 'INPUT', 3)",
    ]
    assert tx.op_at(5) is None


# Arguments that need no quoting, and some that do (space, quote, backslash,
# empty, an option whose value iptables always quotes).
_WORDS = st.sampled_from(
    [
        "-j",
        "ACCEPT",
        "-p",
        "tcp",
        "--dport",
        "80",
        "-s",
        "10.0.0.1",
        "--comment",
        "a b",
        'say "hi"',
        "back\\",
        "",
    ]
)
_CALLS = st.lists(
    st.tuples(st.sampled_from(["append", "insert"]), st.lists(_WORDS, min_size=1, max_size=6)),
    min_size=1,
    max_size=30,
)


@given(_CALLS)
def test_bulk_rendered_appends_equal_one_by_one_rendering(calls: list[tuple[str, list[str]]]) -> None:
    # The bulk path decides quoting for all deferred appends at once; it must
    # give exactly what rendering each call alone gives, and read back to the
    # arguments given.
    tx = Transaction()
    expected = ["*filter"]
    for verb, spec in calls:
        if verb == "append":
            tx.append("filter", "VNK-X", *spec)
            expected.append(f"-A VNK-X {join_args(spec)}")
        else:
            tx.insert("filter", "VNK-X", 1, *spec)
            expected.append(f"-I VNK-X 1 {join_args(spec)}")
    expected.append("COMMIT")

    lines = tx.render().splitlines()

    assert lines == expected
    for line, (verb, spec) in zip(lines[1:-1], calls, strict=True):
        words = split_line(line)
        assert words[2 if verb == "append" else 3 :] == spec
