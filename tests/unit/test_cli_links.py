"""``vnetkit ns|link|addr|route`` without a kernel: help, bad input, the root-namespace guard.

No root, nothing touched: the CLI gets, through its ``Env``, a netlink
backend that records which namespace it was asked for and refuses
everything, and a ``Namespaces`` whose verbs only record (its resolv.conf
files go to a temporary directory). Bad input must exit 2 and a changing
command without ``--netns`` must exit 1 before either of them is reached.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
import pytest

from vnetkit.cli import Env, main
from vnetkit.cli.addr import addr
from vnetkit.cli.link import link
from vnetkit.cli.link_add import add
from vnetkit.cli.ns import ns
from vnetkit.cli.route import route, table_number
from vnetkit.errors import ConfigError, OperationError
from vnetkit.exec import FakeRunner
from vnetkit.exec.netlink import NetlinkBackend
from vnetkit.exec.runner import SystemRunner
from vnetkit.links.namespaces import Namespaces

T = TypeVar("T")
Result = tuple[int, str, str]


class NoKernel(NetlinkBackend):
    """Records each namespace it is asked for, then refuses: proof of what would have been touched."""

    def __init__(self) -> None:
        super().__init__(SystemRunner())  # never started: nothing here calls it
        self.asked: list[str | None] = []

    def channel(self, netns: str | None) -> Any:
        self.asked.append(netns)
        raise OperationError("no kernel in unit tests")

    def exchange(self, netns: str | None, action: str, msg: Any, msg_type: int, flags: int) -> list[bytes]:
        self.asked.append(netns)
        raise OperationError(f"{action}: no kernel in unit tests")

    def in_namespace(self, netns: str | None, fn: Callable[[], T]) -> T:
        self.asked.append(netns)
        raise OperationError("no kernel in unit tests")


class FakeNamespaces(Namespaces):
    """Namespaces ``lab`` and ``default`` (the root one under another name); verbs only record."""

    def __init__(self, etc_dir: Path) -> None:
        super().__init__(etc_dir=str(etc_dir), spawn=self._spawn_fake)
        self.existing = {"lab", "default"}
        self.calls: list[tuple[str, ...]] = []
        self.status = 0

    def _spawn_fake(self, argv: Sequence[str]) -> int:
        self.calls.append(("spawn", *argv))
        return self.status

    def list(self) -> list[str]:
        return sorted(self.existing)

    def exists(self, name: str) -> bool:
        return name in self.existing

    def is_root(self, name: str) -> bool:
        return name == "default"

    def add(self, name: str) -> None:
        self.calls.append(("add", name))

    def delete(self, name: str) -> None:
        self.calls.append(("delete", name))


@dataclasses.dataclass
class World:
    backend: NoKernel
    namespaces: FakeNamespaces
    etc: Path
    capsys: pytest.CaptureFixture[str]

    def __call__(self, *argv: str) -> Result:
        env = dataclasses.replace(
            Env.with_runner(FakeRunner()), netlink=self.backend, namespaces=self.namespaces
        )
        code = main(list(argv), env=env)
        out, err = self.capsys.readouterr()
        return code, out, err

    @property
    def untouched(self) -> bool:
        return self.backend.asked == [] and self.namespaces.calls == []


@pytest.fixture
def world(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> World:
    etc = tmp_path / "netns"
    return World(NoKernel(), FakeNamespaces(etc), etc, capsys)


def one_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("vnetkit: ")
    return lines[0]


# -- help --------------------------------------------------------------------------


def test_top_level_help_lists_the_new_groups(world: World) -> None:
    code, out, _ = world("--help")
    assert code == 0
    for name in ("ns", "link", "addr", "route", "ipt"):
        assert f"  {name} " in out


def _commands(group: click.Group, prefix: tuple[str, ...]) -> list[tuple[str, ...]]:
    return [(*prefix, name) for name in sorted(group.commands)]


EVERY_COMMAND = [
    *_commands(ns, ("ns",)),
    *_commands(link, ("link",)),
    *_commands(add, ("link", "add")),
    *_commands(addr, ("addr",)),
    *_commands(route, ("route",)),
]


@pytest.mark.parametrize("path", EVERY_COMMAND, ids=" ".join)
def test_every_command_has_help(world: World, path: tuple[str, ...]) -> None:
    code, out, err = world(*path, "--help")
    assert (code, err) == (0, "")
    assert out.startswith(f"Usage: vnetkit {' '.join(path)} ")
    assert world.untouched


def test_every_kind_is_there() -> None:
    assert set(add.commands) == {
        "veth",
        "bridge",
        "vlan",
        "vxlan",
        "macvlan",
        "macvtap",
        "ipvlan",
        "tun",
        "tap",
        "ifb",
    }


@pytest.mark.parametrize("path", [("link", "add", "veth"), ("link", "set"), ("route", "add")])
def test_changing_commands_offer_root(world: World, path: tuple[str, ...]) -> None:
    _, out, _ = world(*path, "--help")
    assert "--root" in out
    assert "--netns" in out


# -- bad input: exit 2, nothing touched -----------------------------------------------

BAD_INPUT = [
    ("link", "add", "--netns", "lab", "veth", "bad/name", "--peer", "p0"),
    ("link", "add", "--netns", "lab", "veth", "a-name-far-too-long", "--peer", "p0"),
    ("link", "add", "--netns", "lab", "veth", "v0", "--peer", "has space"),
    ("link", "add", "--netns", "lab", "veth", "v0"),  # --peer missing
    ("link", "add", "--netns", "lab", "vlan", "v10", "--link", "eth0", "--id", "5000"),
    ("link", "add", "--netns", "lab", "vlan", "v10", "--link", "eth0", "--id", "0"),
    ("link", "add", "--netns", "lab", "vlan", "v10", "--link", "eth0", "--id", "ten"),
    ("link", "add", "--netns", "lab", "vlan", "v10", "--link", "eth0", "--id", "1", "--protocol", "x"),
    ("link", "add", "--netns", "lab", "vxlan", "vx0", "--vni", "16777216"),
    ("link", "add", "--netns", "lab", "vxlan", "vx0", "--vni", "1", "--remote", "192.0.2.300"),
    ("link", "add", "--netns", "lab", "vxlan", "vx0", "--vni", "1", "--group", "192.0.2.1"),
    ("link", "add", "--netns", "lab", "macvlan", "mv0", "--link", "eth0", "--mode", "bogus"),
    ("link", "add", "--netns", "lab", "ipvlan", "iv0", "--link", "eth0", "--mode", "l4"),
    ("link", "add", "--netns", "lab", "bridge", "br0", "--mtu", "10"),
    ("link", "add", "--netns", "lab", "bridge", "br0", "--mac", "00:11"),
    ("link", "add", "--netns", "lab", "bridge", "br0", "--ageing", "-1"),
    ("link", "add", "--netns", "lab", "tap", "tap0", "--owner", "no-such-user-here"),
    ("link", "add", "--netns", "lab", "tun", "tun0", "--group", "no-such-group-here"),
    ("link", "add", "--netns", "lab", "nope", "x0"),
    ("link", "add", "--netns", "a/b", "bridge", "br0"),
    ("link", "add", "--netns", "lab", "--root", "bridge", "br0"),
    ("link", "add", "--root", "--netns", "lab", "bridge", "br0"),
    ("link", "del", "--netns", "lab", "bad:name"),
    ("link", "set", "--netns", "lab", "eth0"),
    ("link", "set", "--netns", "lab", "eth0", "--mtu", "10"),
    ("link", "set", "--netns", "lab", "eth0", "--mac", "zz"),
    ("link", "set", "--netns", "lab", "eth0", "--master", "br0", "--nomaster"),
    ("link", "set", "--netns", "lab", "eth0/1", "--up"),
    ("link", "ls", "--netns", "lab", "--all-netns"),
    ("link", "ls", "--netns", ".."),
    ("addr", "add", "--netns", "lab", "eth0", "10.0.0.300/24"),
    ("addr", "add", "--netns", "lab", "eth0", "nonsense"),
    ("addr", "add", "--netns", "lab", "eth0", "10.0.0.1/33"),
    ("addr", "del", "--netns", "lab", "eth0", "2001:db8::g/64"),
    ("addr", "add", "--netns", "lab", "", "10.0.0.1/24"),
    ("addr", "ls", "--netns", "lab", "bad/dev"),
    ("route", "add", "--netns", "lab", "10.0.0.0/33", "--dev", "eth0"),
    ("route", "add", "--netns", "lab", "10.0.0.0/24"),
    ("route", "add", "--netns", "lab", "default", "--via", "not-an-ip"),
    ("route", "add", "--netns", "lab", "default", "--via", "10.0.0.1", "--table", "nope"),
    ("route", "add", "--netns", "lab", "default", "--via", "10.0.0.1", "--metric", "-1"),
    ("route", "del", "--netns", "lab", "default", "--dev", "a/b"),
    ("route", "ls", "--netns", "lab", "--table", "0"),
    ("ns", "add", "a/b"),
    ("ns", "add", ".."),
    ("ns", "del", ""),
    ("ns", "exec", "lab"),
    ("ns", "exec", "lab", "--"),
    ("ns", "exec", "a/b", "--", "true"),
]


@pytest.mark.parametrize("argv", BAD_INPUT, ids=" ".join)
def test_bad_input_exits_2_without_touching_anything(world: World, argv: tuple[str, ...]) -> None:
    code, out, err = world(*argv)
    assert code == 2, err
    assert out == ""
    one_line(err)
    assert world.untouched
    assert not world.etc.exists()


def test_bad_input_wins_over_the_root_guard(world: World) -> None:
    code, _, err = world("link", "add", "vlan", "v0", "--link", "eth0", "--id", "4095")
    assert code == 2
    assert "VLAN id" in one_line(err)


# -- the root namespace: refused without --root --------------------------------------

CHANGES = [
    ("link", "add", "bridge", "br0"),
    ("link", "add", "veth", "v0", "--peer", "v1"),
    ("link", "add", "veth", "v0", "--peer", "v1", "--peer-netns", "lab"),
    ("link", "add", "tap", "tap0"),
    ("link", "add", "ifb", "ifb0"),
    ("link", "del", "eth0"),
    ("link", "set", "eth0", "--down"),
    ("link", "set", "eth0", "--mtu", "9000"),
    ("addr", "add", "eth0", "10.0.0.1/24"),
    ("addr", "del", "eth0", "10.0.0.1/24"),
    ("route", "add", "default", "--via", "10.0.0.1"),
    ("route", "del", "default", "--via", "10.0.0.1"),
    # "default" is the root namespace under another name
    ("link", "add", "--netns", "default", "bridge", "br0"),
    ("link", "add", "--netns", "lab", "veth", "v0", "--peer", "v1", "--peer-netns", "default"),
    ("link", "del", "--netns", "default", "eth0"),
    ("addr", "--netns", "default", "add", "eth0", "10.0.0.1/24"),
    ("route", "add", "--netns", "default", "default", "--dev", "eth0"),
    ("ns", "del", "default"),
    ("ns", "exec", "default", "--", "ip", "link", "del", "eth0"),
]


@pytest.mark.parametrize("argv", CHANGES, ids=" ".join)
def test_changing_the_root_namespace_is_refused(world: World, argv: tuple[str, ...]) -> None:
    code, out, err = world(*argv)
    assert code == 1, err
    assert out == ""
    line = one_line(err)
    assert "root" in line
    assert "--root" in line
    assert world.untouched


@pytest.mark.parametrize(
    "argv",
    [
        ("link", "add", "--root", "bridge", "br0"),
        ("link", "add", "bridge", "br0", "--root"),
        ("link", "del", "--root", "eth0"),
        ("link", "set", "--root", "eth0", "--up"),
        ("addr", "add", "--root", "eth0", "10.0.0.1/24"),
        ("route", "add", "--root", "default", "--via", "10.0.0.1"),
    ],
    ids=" ".join,
)
def test_root_flag_lets_the_command_through(world: World, argv: tuple[str, ...]) -> None:
    code, _, err = world(*argv)
    assert code == 1  # NoKernel refuses, but it was asked, for the root namespace
    assert "no kernel" in one_line(err)
    assert world.backend.asked[:1] == [None]


def test_root_flag_belongs_to_the_changing_command_not_the_group(world: World) -> None:
    code, _, err = world("link", "--root", "del", "eth0")
    assert code == 2
    assert "--root" in one_line(err)
    assert world.untouched


@pytest.mark.parametrize(
    ("argv", "where"),
    [
        (("link", "del", "--netns", "lab", "eth0"), "lab"),
        (("link", "--netns", "lab", "del", "eth0"), "lab"),
        (("link", "--netns", "other", "del", "--netns", "lab", "eth0"), "lab"),
        (("link", "add", "--netns", "lab", "bridge", "br0"), "lab"),
        (("link", "--netns", "lab", "add", "bridge", "br0"), "lab"),
        (("addr", "--netns", "lab", "del", "eth0", "10.0.0.1/24"), "lab"),
        (("route", "--netns", "lab", "ls"), "lab"),
        (("route", "ls"), None),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else str(v),
)
def test_netns_on_group_or_command_and_the_command_wins(
    world: World, argv: tuple[str, ...], where: str | None
) -> None:
    code, _, err = world(*argv)
    assert code == 1
    one_line(err)
    assert world.backend.asked[:1] == [where]


# -- ns ------------------------------------------------------------------------------


def test_ns_ls(world: World) -> None:
    code, out, _ = world("ns", "ls", "--json")
    assert code == 0
    assert json.loads(out) == [{"name": "default"}, {"name": "lab"}]
    code, out, _ = world("ns", "ls")
    assert code == 0
    assert "lab" in out


def test_ns_add_and_del_name_exactly_one_namespace(world: World) -> None:
    assert world("ns", "add", "lab2")[0] == 0
    assert world("ns", "del", "lab")[0] == 0
    assert world.namespaces.calls == [("add", "lab2"), ("delete", "lab")]


def test_ns_del_of_the_root_namespace_needs_root(world: World) -> None:
    assert world("ns", "del", "--root", "default")[0] == 0
    assert world.namespaces.calls == [("delete", "default")]


def test_ns_exec_runs_ip_netns_exec_with_a_resolv_conf(world: World) -> None:
    world.namespaces.status = 3
    code, _, err = world("ns", "exec", "lab", "--", "ip", "-br", "link")
    assert (code, err) == (3, "")  # the program's own status
    assert world.namespaces.calls == [("spawn", "ip", "netns", "exec", "lab", "ip", "-br", "link")]
    text = (world.etc / "lab" / "resolv.conf").read_text()
    assert text.startswith("# vnetkit: resolv.conf of network namespace lab\n")
    assert all(line.startswith("#") for line in text.splitlines())  # comments only: no nameserver


def test_ns_exec_without_separator(world: World) -> None:
    assert world("ns", "exec", "lab", "true")[0] == 0
    assert world.namespaces.calls == [("spawn", "ip", "netns", "exec", "lab", "true")]


def test_ns_exec_in_a_missing_namespace_exits_1(world: World) -> None:
    code, _, err = world("ns", "exec", "nope", "--", "true")
    assert code == 1
    assert "does not exist" in one_line(err)
    assert world.namespaces.calls == []


# -- resolv.conf ownership (a temporary /etc/netns) -------------------------------------


def test_resolv_conf_is_written_once_and_never_over_someone_elses(tmp_path: Path) -> None:
    spaces = Namespaces(etc_dir=str(tmp_path))
    assert spaces.ensure_resolv_conf("a") is True
    assert spaces.ensure_resolv_conf("a") is False
    os.makedirs(tmp_path / "b")
    (tmp_path / "b" / "resolv.conf").write_text("nameserver 192.0.2.53\n")
    assert spaces.ensure_resolv_conf("b") is False
    assert (tmp_path / "b" / "resolv.conf").read_text() == "nameserver 192.0.2.53\n"


def test_only_vnetkits_resolv_conf_is_removed(tmp_path: Path) -> None:
    spaces = Namespaces(etc_dir=str(tmp_path))
    spaces.ensure_resolv_conf("a")
    assert spaces.remove_resolv_conf("a") is True
    assert not (tmp_path / "a").exists()
    os.makedirs(tmp_path / "b")
    (tmp_path / "b" / "resolv.conf").write_text("nameserver 192.0.2.53\n")
    assert spaces.remove_resolv_conf("b") is False
    assert (tmp_path / "b" / "resolv.conf").exists()
    spaces.ensure_resolv_conf("c")
    (tmp_path / "c" / "hosts").write_text("192.0.2.1 x\n")
    assert spaces.remove_resolv_conf("c") is True
    assert (tmp_path / "c" / "hosts").exists()  # the directory stays with someone's file in it
    assert spaces.remove_resolv_conf("missing") is False


def test_resolv_conf_of_another_namespace_is_not_mistaken_for_ours(tmp_path: Path) -> None:
    spaces = Namespaces(etc_dir=str(tmp_path))
    spaces.ensure_resolv_conf("a")
    os.makedirs(tmp_path / "b")
    (tmp_path / "b" / "resolv.conf").write_text((tmp_path / "a" / "resolv.conf").read_text())
    assert spaces.remove_resolv_conf("b") is False


def test_exec_needs_a_program(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        Namespaces(etc_dir=str(tmp_path)).exec("lab", [])


# -- small parsers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"), [("main", 254), ("local", 255), ("default", 253), ("100", 100), (None, None)]
)
def test_table_numbers(text: str | None, number: int | None) -> None:
    assert table_number(text) == number


def test_table_all_only_where_allowed() -> None:
    assert table_number("all", allow_all=True) is None
    with pytest.raises(ConfigError):
        table_number("all")
    with pytest.raises(ConfigError):
        table_number("4294967296")
