"""Streamed stdin: pieces written as they are made, a reader that stops early, output kept whole."""

from __future__ import annotations

from collections.abc import Iterator

from vnetkit.exec import default_runner
from vnetkit.iptables.transaction import Transaction, jump_targets


def test_pieces_are_written_as_they_are_made() -> None:
    made: list[int] = []

    def pieces() -> Iterator[str]:
        for k in range(5):
            made.append(k)
            yield f"line {k}\n"

    done = default_runner().run(("cat",), input=pieces())
    assert done.returncode == 0
    assert done.stdout == "".join(f"line {k}\n" for k in range(5))
    assert made == [0, 1, 2, 3, 4]


def test_a_reader_that_stops_early_ends_the_pieces() -> None:
    made: list[int] = []

    def pieces() -> Iterator[str]:
        for k in range(10_000):
            made.append(k)
            yield "x" * 65536

    done = default_runner().run(("head", "-c", "5"), input=pieces())
    assert (done.returncode, done.stdout) == (0, "xxxxx")
    assert len(made) < 10_000  # its exit broke the pipe: the rest was never made


def test_large_output_and_errors_do_not_block_the_writer() -> None:
    done = default_runner().run(
        ("sh", "-c", "cat; head -c 300000 /dev/zero | tr '\\0' e >&2; exit 3"), input=iter(["a\n"] * 50_000)
    )
    assert done.returncode == 3
    assert len(done.stdout) == 100_000
    assert len(done.stderr) == 300_000


def test_chunks_are_the_rendered_text() -> None:
    tx = Transaction()
    tx.new_chain("filter", "X")
    for k in range(5000):
        tx.append("filter", "X", "-s", f"10.0.{k // 256}.{k % 256}", "-j", "ACCEPT")
    tx.append("filter", "X", "-m", "comment", "--comment", "two words", "-j", "DROP")
    tx.append("nat", "POSTROUTING", "-j", "MASQUERADE")
    pieces = list(tx.chunks())
    assert len(pieces) > 4  # *filter, several pieces of lines, COMMIT, *nat...
    text = "".join(pieces)
    assert text == tx.render()
    assert text.startswith("*filter\n-N X\n-A X -s 10.0.0.0 -j ACCEPT\n")
    assert '-A X -m comment --comment "two words" -j DROP\nCOMMIT\n*nat\n' in text
    assert text.endswith("-A POSTROUTING -j MASQUERADE\nCOMMIT\n")


def test_jump_targets_reads_the_rule_with_the_grammar() -> None:
    assert jump_targets("-A INPUT -j VNK-A") == ["VNK-A"]
    assert jump_targets("-I INPUT 3 -s 10.0.0.1/32 -g VNK-B") == ["VNK-B"]
    assert jump_targets('-A INPUT -m comment --comment "-j VNK-A" -j ACCEPT') == ["ACCEPT"]
    assert jump_targets('-A INPUT -m comment --comment "count -j VNK-A"') == []
    assert jump_targets(":X - [0:0]") == []
