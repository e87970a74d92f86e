"""What every match and target handler shares: the context, options by name, the registry entry.

Owns: ``Ctx`` (family, backend, the rule's protocol), ``Opts`` (one
extension's options keyed by the name iptables prints, with the tool's
checks for repeats, ``!`` and value counts) and ``Ext`` (an extension's
option spellings and its handler), plus ``ext()`` to declare one in a line.
Does not own: what any extension prints (the ``_matches*``/``_targets``
modules) or the order of matches (``canonical/__init__``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NoReturn, Protocol

from vnetkit.errors import CannotDerive, HostDependent, RuleError
from vnetkit.iptables.canonical._values import Family, check_text, fail
from vnetkit.model import Option

Backend = Literal["nft", "legacy"]
Kind = Literal["match", "target"]

# Protocol numbers by the names iptables prints.
TCP, UDP, ICMP, ICMPV6, SCTP, DCCP, UDPLITE, ESP, AH, MH = 6, 17, 1, 58, 132, 33, 136, 50, 51, 135


OPTIONAL = -1  # the arity of an option whose one value may be left out


class BackendRefusal(RuleError):
    """One backend refuses the rule and the other does not (see ``canonical(backend=None)``)."""


class Resolver(Protocol):
    """The host's name databases, looked up the way iptables looks them up (files and NSS).

    Each answers None for a name or number the host does not know. The real
    one is :class:`vnetkit.exec.resolver.HostResolver`; tests pass a fake.
    """

    def service(self, name: str, protocol: str | None) -> int | None:
        """``http``, ``tcp`` -> 80 (getservbyname; ``None``: any protocol, as getaddrinfo looks)."""

    def protocol_number(self, name: str) -> int | None:
        """``gre`` -> 47 (getprotobyname)."""

    def protocol_name(self, number: int) -> str | None:
        """47 -> ``gre`` (getprotobynumber: the first name /etc/protocols gives)."""

    def user(self, name: str) -> int | None:
        """``root`` -> 0 (getpwnam)."""

    def group(self, name: str) -> int | None:
        """``root`` -> 0 (getgrnam)."""


@dataclass(frozen=True, slots=True)
class Ctx:
    """What a handler may look at besides its own options."""

    family: Family
    backend: Backend
    protocol: int | None  # -p as a number; None when absent or "all"
    protocol_negated: bool
    tcp_syn: bool = False  # a tcp match compares SYN set (legacy TCPMSS needs one)
    resolver: Resolver | None = None  # None: names that need the host's files are refused
    destination: str | None = None  # -d as printed (ADDR/N), None when absent (CLUSTERIP needs one address)

    def host_dependent(self, message: str, where: str) -> NoReturn:
        """A value whose printed form comes from a host file the resolver does not cover.

        Without a resolver (pure canonical()) that is ``HostDependent``, a
        ``RuleError``; with one (sync, Snapshot), ``CannotDerive``, so the
        caller asks the tool on this host instead.
        """
        if self.resolver is None:
            raise HostDependent(message, location=where)
        raise CannotDerive(f"{where}: {message}", what=where)

    def needs_protocol(self, allowed: Mapping[int, str], where: str) -> None:
        """Refuse unless ``-p`` is one of ``allowed`` and not negated (the kernel's check)."""
        names = " or ".join(f"-p {name}" for name in allowed.values())
        if self.protocol not in allowed:
            raise fail(f"needs {names}", location=where)
        if self.protocol_negated:
            raise fail(f"needs {names} without '!'", location=where)


Handler = Callable[["Opts", Ctx], tuple[Option, ...]]


@dataclass(frozen=True, slots=True)
class Ext:
    """One extension: how its options are spelled and what it prints.

    ``spellings`` maps every accepted option name to the one iptables prints;
    ``handler`` None declares only the grammar (its option names and values),
    and canonical() answers ``CannotDerive`` for the extension; every
    extension of iptables 1.8.9 has a handler.
    """

    name: str
    kind: Kind
    spellings: Mapping[str, str]
    handler: Handler | None
    invertible: frozenset[str] = frozenset()
    arity: Mapping[str, int] = field(default_factory=dict)
    families: frozenset[str] = frozenset({"ipv4", "ipv6"})
    repeatable: frozenset[str] = frozenset()  # may be given again (the last one counts)

    def where(self, option: str = "") -> str:
        head = f"-m {self.name}" if self.kind == "match" else f"-j {self.name}"
        return f"{head} {option}" if option else head


def ext(
    name: str,
    kind: Kind,
    handler: Handler | None,
    options: str,
    *,
    flags: str = "",
    pairs: str = "",
    invert: str = "",
    family: Family | None = None,
    repeat: str = "",
    optional: str = "",
) -> Ext:
    """Declare an extension: ``options`` lists names, aliases joined by ``|`` (first is printed).

    ``flags`` take no value, ``pairs`` take two, ``optional`` one or none (the
    next argument, unless it starts with ``-`` or ``!``, as rateest reads its
    rates), the rest one; ``invert`` lists the printed names that accept ``!``
    (``*`` for all); ``repeat`` those the tool lets you give more than once
    (old-style parsers such as SET's).
    """
    spellings: dict[str, str] = {}
    for group in options.split():
        names = group.split("|")
        for alias in names:
            spellings[alias] = names[0]
    arity = (
        dict.fromkeys(flags.split(), 0)
        | dict.fromkeys(pairs.split(), 2)
        | dict.fromkeys(optional.split(), -1)
    )
    printed = set(spellings.values())
    unknown = (set(arity) | set(invert.split()) | set(repeat.split())) - printed - {"*"}
    if unknown:  # a typo in a declaration
        raise ValueError(f"{name}: {sorted(unknown)} are not options of {sorted(printed)}")
    invertible = frozenset(printed if invert == "*" else invert.split())
    families = frozenset({family} if family else {"ipv4", "ipv6"})
    return Ext(name, kind, spellings, handler, invertible, arity, families, frozenset(repeat.split()))


class Opts:
    """One extension's options, keyed by the name iptables prints, in the order given.

    Refuses what the tool refuses for any extension: an option given twice,
    ``!`` where the option cannot be negated, the wrong number of values,
    control characters in a value.
    """

    def __init__(self, spec: Ext, options: Sequence[Option]) -> None:
        self.ext = spec
        self.items: list[Option] = []
        for opt in options:
            key = spec.spellings[opt.name]
            where = spec.where(key)
            if key not in spec.repeatable and any(item.name == key for item in self.items):
                raise fail("given twice", location=where)
            if opt.negated and key not in spec.invertible:
                raise fail("cannot be negated with '!'", location=where)
            want = spec.arity.get(key, 1)
            if want == OPTIONAL and len(opt.values) <= 1:
                pass
            elif len(opt.values) != want:
                raise fail(
                    f"takes {want} value{'s' if want != 1 else ''}, got {list(opt.values)}", location=where
                )
            for value in opt.values:
                check_text(value, where)
            self.items.append(Option(key, opt.values, opt.negated))
        self._by = {item.name: item for item in self.items}

    def where(self, key: str = "") -> str:
        return self.ext.where(key)

    def has(self, key: str) -> bool:
        return key in self._by

    def get(self, key: str) -> str | None:
        """The single value of ``key``, None when absent."""
        item = self._by.get(key)
        return item.values[0] if item is not None and item.values else None

    def value(self, key: str) -> str:
        """The single value of ``key``, which the caller knows is present."""
        return self._by[key].values[0]

    def values(self, key: str) -> tuple[str, ...]:
        return self._by[key].values

    def neg(self, key: str) -> bool:
        item = self._by.get(key)
        return item is not None and item.negated

    def index(self, key: str) -> int:
        return next(k for k, item in enumerate(self.items) if item.name == key)

    def one_of(self, *keys: str, required: bool = True) -> str | None:
        """The one of ``keys`` given; refuses two of them, and none when ``required``."""
        given = [key for key in keys if key in self._by]
        if len(given) > 1:
            raise fail(f"{given[0]} cannot be used together with {given[1]}", location=self.where())
        if not given and required:
            raise fail(f"needs one of {', '.join(keys)}", location=self.where())
        return given[0] if given else None

    def which(self, *keys: str) -> str:
        """The one of ``keys`` given; refuses none and more than one."""
        given = self.one_of(*keys)
        if given is None:  # one_of raised already; this narrows the type
            raise fail(f"needs one of {', '.join(keys)}", location=self.where())
        return given

    def requires(self, key: str, other: str) -> None:
        """Refuse ``key`` without ``other``."""
        if key in self._by and other not in self._by:
            raise fail(f"{key} also requires {other}", location=self.where())
