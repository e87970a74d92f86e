"""The one exception tree (ARCHITECTURE.md, "Errors") and the fields every error carries."""

from __future__ import annotations

import pytest

from vnetkit import errors
from vnetkit.errors import (
    AlreadyExists,
    ApplyError,
    CannotDerive,
    CommandError,
    ConfigError,
    HostDependent,
    InUse,
    LockTimeout,
    MissingTool,
    NotFound,
    OperationError,
    ParseError,
    PermissionDenied,
    RuleError,
    TopologyError,
    UnsupportedError,
    VnetkitError,
)

PARENT = {
    ConfigError: VnetkitError,
    RuleError: ConfigError,
    HostDependent: RuleError,
    TopologyError: ConfigError,
    ParseError: VnetkitError,
    OperationError: VnetkitError,
    CommandError: OperationError,
    NotFound: OperationError,
    AlreadyExists: OperationError,
    InUse: OperationError,
    PermissionDenied: OperationError,
    LockTimeout: OperationError,
    UnsupportedError: VnetkitError,
    MissingTool: UnsupportedError,
    CannotDerive: UnsupportedError,
    ApplyError: VnetkitError,
}


@pytest.mark.parametrize(("cls", "parent"), PARENT.items(), ids=lambda c: getattr(c, "__name__", ""))
def test_tree(cls: type[VnetkitError], parent: type[VnetkitError]) -> None:
    assert issubclass(cls, parent)
    assert issubclass(cls, VnetkitError)
    assert issubclass(VnetkitError, Exception)


def test_every_error_class_is_in_the_tree() -> None:
    classes = {
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, VnetkitError) and obj is not VnetkitError
    }
    assert classes == set(PARENT)
    assert set(errors.__all__) == {cls.__name__ for cls in classes} | {"VnetkitError"}


def test_builtin_bases() -> None:
    assert issubclass(ConfigError, ValueError)
    assert issubclass(RuleError, ValueError)
    assert issubclass(TopologyError, ValueError)
    assert issubclass(ParseError, ValueError)
    assert issubclass(NotFound, LookupError)
    operations: tuple[type[VnetkitError], ...] = (
        OperationError,
        CommandError,
        AlreadyExists,
        InUse,
        PermissionDenied,
        LockTimeout,
    )
    for cls in operations:
        assert not issubclass(cls, (ValueError, LookupError))
    for other in (UnsupportedError, MissingTool, ApplyError):
        assert not issubclass(other, (ValueError, LookupError, OperationError, ConfigError))


def test_branches_are_disjoint() -> None:
    branches = (ConfigError, ParseError, OperationError, UnsupportedError, ApplyError)
    for a in branches:
        for b in branches:
            assert (a is b) == issubclass(a, b)


def test_callers_can_catch_not_found_as_lookup_error() -> None:
    with pytest.raises(LookupError):
        raise NotFound("delete chain C1 of table filter: no such chain")


def test_fields_of_a_command_error() -> None:
    err = CommandError(
        "iptables: list chain C1", argv=["iptables", "-S", "C1"], exit_status=1, stderr="boom\n"
    )
    assert err.argv == ("iptables", "-S", "C1")
    assert isinstance(err.argv, tuple)
    assert err.exit_status == 1
    assert err.stderr == "boom\n"
    assert err.message == "iptables: list chain C1"
    assert str(err) == "iptables: list chain C1"
    assert err.args == ("iptables: list chain C1",)


def test_fields_default_to_none() -> None:
    err = VnetkitError("something")
    assert (err.argv, err.exit_status, err.stderr) == (None, None, None)


def test_rule_error_fields() -> None:
    err = RuleError("unknown table 'x'", choices=["filter", "nat"], location="line 3", argv=("iptables",))
    assert err.choices == ("filter", "nat")
    assert err.location == "line 3"
    assert err.argv == ("iptables",)
    assert RuleError("bad").choices == ()
    assert RuleError("bad").location is None


def test_topology_parse_and_apply_fields() -> None:
    assert TopologyError("bad node", location="nodes.r1").location == "nodes.r1"
    parse = ParseError("cannot read", source="iptables -L", line=7)
    assert (parse.source, parse.line, str(parse)) == ("iptables -L", 7, "cannot read")
    assert (ParseError("x").source, ParseError("x").line) == ("", None)
    apply = ApplyError("half done", completed=["a", "b"], failed="c", rolled_back=["b"])
    assert (apply.completed, apply.failed, apply.rolled_back) == (("a", "b"), "c", ("b",))


@pytest.mark.parametrize("cls", [VnetkitError, *PARENT], ids=lambda c: c.__name__)
def test_is_not_exist(cls: type[VnetkitError]) -> None:
    err: VnetkitError
    if cls in (TopologyError, ParseError, ApplyError, CannotDerive):
        err = cls("x")
    else:
        err = cls("x", argv=("iptables",), exit_status=1, stderr="")
    assert err.is_not_exist() is (cls is NotFound)
