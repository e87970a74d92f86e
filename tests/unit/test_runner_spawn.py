"""How ``SystemRunner`` starts a program (posix_spawn): what the child gets and what comes back.

Only harmless programs run (sh, cat, head, grep), in the caller's own
namespace; nothing on the system is changed.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from vnetkit.exec import SystemRunner, runner

run = SystemRunner().run


def test_exit_status_and_both_outputs() -> None:
    done = run(("sh", "-c", "echo out; echo err >&2; exit 7"))
    assert (done.argv, done.returncode, done.stdout, done.stderr) == (
        ("sh", "-c", "echo out; echo err >&2; exit 7"),
        7,
        "out\n",
        "err\n",
    )


def test_a_signal_comes_back_as_a_negative_status() -> None:
    assert run(("sh", "-c", "kill -TERM $$")).returncode == -signal.SIGTERM


def test_without_input_stdin_is_dev_null() -> None:
    done = run(("sh", "-c", "cat; readlink /proc/self/fd/0"))
    assert done.stdout == "/dev/null\n"


def test_the_child_gets_the_callers_argv0_not_the_path() -> None:
    done = run(("sh", "-c", "tr '\\0' ' ' < /proc/$$/cmdline"))
    assert done.stdout.startswith("sh -c ")


def test_ignored_signals_are_back_to_their_defaults_in_the_child() -> None:
    # Python ignores SIGPIPE and SIGXFSZ; a child must not inherit that (as with subprocess).
    line = run(("grep", "^SigIgn:", "/proc/self/status")).stdout
    ignored = int(line.split()[1], 16)
    for sig in (signal.SIGPIPE, signal.SIGXFSZ):
        assert not ignored & (1 << (sig - 1)), f"{sig.name} is ignored in the child"


def _inheritable() -> set[str]:
    """This process's descriptors a child inherits (the ones it was given, like any program's)."""
    fds = set()
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the directory's own descriptor, closed by now
            if os.get_inheritable(int(name)):
                fds.add(name)
    return fds


def test_no_descriptor_of_the_runner_leaks_into_the_child() -> None:
    listing = run(("sh", "-c", "ls -l /proc/$$/fd")).stdout  # the shell's descriptors, as it got them
    links = {}
    for line in listing.splitlines():
        name, arrow, target = line.partition(" -> ")
        if arrow:
            links[name.split()[-1]] = target
    assert links["0"] == "/dev/null"
    assert links["1"].startswith("/memfd:stdout")
    assert links["2"].startswith("/memfd:stderr")
    assert set(links) - {"0", "1", "2"} <= _inheritable()


def test_large_outputs_without_input() -> None:
    done = run(
        ("sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' o; head -c 2000000 /dev/zero | tr '\\0' e >&2")
    )
    assert (len(done.stdout), len(done.stderr)) == (3_000_000, 2_000_000)
    assert set(done.stdout) == {"o"}


def test_large_text_input_and_output_together() -> None:
    text = "x" * 4_000_000 + "\n"
    done = run(("sh", "-c", "cat; cat /proc/self/status >&2"), input=text)
    assert done.returncode == 0
    assert done.stdout == text
    assert "SigIgn" in done.stderr


def test_bytes_that_are_not_utf8_survive_a_round_trip() -> None:
    # iptables cuts a comment by bytes: half a UTF-8 character comes back as surrogates...
    done = run(("printf", "caf\\303"))
    assert done.stdout == "caf\udcc3"
    # ...and is written back unchanged.
    assert run(("cat",), input=done.stdout).stdout == "caf\udcc3"
    assert run(("od", "-An", "-c"), input="é").stdout.split() == ["303", "251"]


def test_empty_input_is_an_empty_stdin() -> None:
    assert run(("wc", "-c"), input="").stdout.strip() == "0"
    assert run(("wc", "-c"), input=iter([])).stdout.strip() == "0"


def test_a_failing_input_kills_the_program_before_it_sees_the_end(tmp_path: Path) -> None:
    marker = tmp_path / "finished"

    def pieces() -> Iterator[str]:
        yield "*filter\n"
        raise RuntimeError("rendering failed")

    with pytest.raises(RuntimeError, match="rendering failed"):
        # If the program saw the end of its input it would go on to make the marker.
        run(("sh", "-c", f"cat > /dev/null; touch {marker}"), input=pieces())
    assert not marker.exists()


def test_a_program_started_but_never_finished_is_killed_when_dropped() -> None:
    # A caller interrupted while the namespace's thread started its program never finishes it.
    child = runner._launch(("sleep", "30"), None)
    pid = child._pid
    os.kill(pid, 0)  # running
    del child
    with pytest.raises(ChildProcessError):  # killed and reaped already
        os.waitpid(pid, os.WNOHANG)


def test_the_child_gets_the_environment_as_it_is_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VNK_TEST_VAR", "one")
    assert run(("sh", "-c", 'echo "$VNK_TEST_VAR"')).stdout == "one\n"
    monkeypatch.setenv("VNK_TEST_VAR", "two ü")
    assert run(("sh", "-c", 'echo "$VNK_TEST_VAR"')).stdout == "two ü\n"
    monkeypatch.delenv("VNK_TEST_VAR")
    assert run(("sh", "-c", 'echo "${VNK_TEST_VAR-unset}"')).stdout == "unset\n"
