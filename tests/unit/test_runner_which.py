"""``SystemRunner`` finds each program on PATH once, then runs it by absolute path.

The programs are tiny shell scripts made in ``tmp_path``; PATH points at
them through ``monkeypatch``, so nothing else on the system is run.
"""

from __future__ import annotations

import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from vnetkit.errors import MissingTool, PermissionDenied
from vnetkit.exec import SystemRunner

PROGRAM = "vnk-test-tool"


def script(directory: Path, body: str, *, name: str = PROGRAM, mode: int = 0o755) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(mode)
    return path


@pytest.fixture
def which_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every program name ``shutil.which`` is asked about (each runner starts with an empty cache)."""
    calls: list[str] = []
    real: Callable[..., str | None] = shutil.which

    def counting(cmd: str, mode: int = 1, path: str | None = None) -> str | None:
        calls.append(cmd)
        return real(cmd, mode, path)

    monkeypatch.setattr(shutil, "which", counting)
    return calls


def test_second_run_uses_the_cached_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, which_calls: list[str]
) -> None:
    found = script(tmp_path / "bin", "echo one $1")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    runner = SystemRunner()
    run = runner.run
    first = run((PROGRAM, "a"))
    second = run([PROGRAM, "b"])
    assert (first.stdout, second.stdout) == ("one a\n", "one b\n")
    assert which_calls == [PROGRAM]
    assert runner._where[PROGRAM] == (str(tmp_path / "bin"), str(found))
    # The caller's argv comes back, not the path that ran.
    assert first.argv == (PROGRAM, "a")
    assert second.argv == (PROGRAM, "b")


def test_a_new_path_is_searched_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, which_calls: list[str]
) -> None:
    script(tmp_path / "one", "echo one")
    script(tmp_path / "two", "echo two")
    run = SystemRunner().run
    monkeypatch.setenv("PATH", str(tmp_path / "one"))
    assert run((PROGRAM,)).stdout == "one\n"
    monkeypatch.setenv("PATH", str(tmp_path / "two"))
    assert run((PROGRAM,)).stdout == "two\n"
    assert run((PROGRAM,)).stdout == "two\n"
    assert which_calls == [PROGRAM, PROGRAM]
    monkeypatch.setenv("PATH", f"{tmp_path / 'one'}:{tmp_path / 'two'}")
    assert run((PROGRAM,)).stdout == "one\n"  # PATH order still decides


def test_missing_program_names_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, which_calls: list[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory
    runner = SystemRunner()
    with pytest.raises(MissingTool) as info:
        runner.run(("iptables-nft", "--version"))
    assert str(info.value) == "iptables-nft: command not found; install it: apt-get install iptables"
    assert info.value.argv == ("iptables-nft", "--version")
    assert "iptables-nft" not in runner._where  # a miss is not remembered


def test_program_installed_after_a_miss_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, which_calls: list[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(MissingTool, match=f"{PROGRAM}: command not found"):
        SystemRunner().run((PROGRAM,))
    script(tmp_path / "bin", "echo here")
    assert SystemRunner().run((PROGRAM,)).stdout == "here\n"


def test_program_removed_after_it_was_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, which_calls: list[str]
) -> None:
    first = script(tmp_path / "one", "echo one")
    monkeypatch.setenv("PATH", f"{tmp_path / 'one'}:{tmp_path / 'two'}")
    runner = SystemRunner()
    run = runner.run
    assert run((PROGRAM,)).stdout == "one\n"
    first.unlink()
    script(tmp_path / "two", "echo two")
    assert run((PROGRAM,)).stdout == "two\n"  # the stale path is dropped and PATH searched again
    (tmp_path / "two" / PROGRAM).unlink()
    with pytest.raises(MissingTool, match=r"apt-get install vnk$"):
        run((PROGRAM,))
    assert PROGRAM not in runner._where


def test_a_path_with_a_slash_is_run_as_given(tmp_path: Path, which_calls: list[str]) -> None:
    path = script(tmp_path, "echo direct")
    done = SystemRunner().run((str(path),))
    assert (done.argv, done.stdout) == ((str(path),), "direct\n")
    assert which_calls == []
    with pytest.raises(MissingTool, match="command not found"):
        SystemRunner().run((str(tmp_path / "missing"),))


def test_file_without_execute_permission_is_still_permission_denied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, which_calls: list[str]
) -> None:
    script(tmp_path, "echo never", mode=stat.S_IRUSR | stat.S_IWUSR)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PermissionDenied, match=f"{PROGRAM}: cannot execute"):
        SystemRunner().run((PROGRAM,))


def test_unset_path_searches_the_default_path(
    monkeypatch: pytest.MonkeyPatch, which_calls: list[str]
) -> None:
    monkeypatch.delenv("PATH", raising=False)
    if shutil.which("sh", path="/bin:/usr/bin") is None:
        pytest.skip("no sh in /bin or /usr/bin")
    runner = SystemRunner()
    done = runner.run(("sh", "-c", "echo ok"))
    assert done.stdout == "ok\n"
    assert runner._where["sh"][0] is None
