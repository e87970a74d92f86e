"""Reading a snapshot's parts from the text users already have. Pure.

Owns: parsing ``ip -j addr`` (``-d`` adds the link kind), ``ip -j route show
table all`` (or any ``ip -j route`` listing; both families), ``ip -j rule`` /
``ip -j -6 rule``, ``ipset save`` and ``sysctl`` output (``key = value``
lines) into the values of ``snapshot_values`` and ``vnetkit.model``. Every
failure is a ``ParseError`` naming the source and what was wrong. Does not
own: running the tools (``snapshot_take``), the ``Snapshot`` itself.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from typing import Any

from vnetkit.errors import ConfigError, ParseError
from vnetkit.model.names import TABLES, number
from vnetkit.model.routes import Route
from vnetkit.trace.snapshot_values import Family, Interface, IpSet, PolicyRule

__all__ = ["parse_addr_json", "parse_ipset_save", "parse_route_json", "parse_rule_json", "parse_sysctl_text"]

_RULE_KNOWN = frozenset(
    {"priority", "src", "srclen", "dst", "dstlen", "iif", "oif", "fwmark", "fwmask", "table", "not", "action"}
)
_RULE_IGNORED = frozenset({"flags", "protocol"})  # how the rule was made, not what it selects


def _entries(text: str, source: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text) if text.strip() else []
    except json.JSONDecodeError as exc:
        raise ParseError(f"{source}: not JSON ({exc.msg} at line {exc.lineno})", source=source) from None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ParseError(f"{source}: expected a JSON list of objects, as ip -j prints", source=source)
    return data


def _field(entry: Mapping[str, Any], key: str, kind: type, source: str, what: str) -> Any:
    value = entry.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ParseError(f"{source}: {what} has no valid {key!r} ({value!r})", source=source)
    return value


def parse_addr_json(text: str, *, source: str = "ip -j addr") -> tuple[Interface, ...]:
    """The interfaces of ``ip -j addr`` (or ``ip -d -j addr``, which adds ``kind``), in its order."""
    out = []
    for position, entry in enumerate(_entries(text, source)):
        what = f"link #{position + 1}"
        name = _field(entry, "ifname", str, source, what)
        what = f"link {name}"
        index = _field(entry, "ifindex", int, source, what)
        addresses = []
        for info in entry.get("addr_info", ()):
            if not isinstance(info, dict) or info.get("family") not in ("inet", "inet6"):
                continue  # another family's address (none today), nothing to route by
            local, prefix = info.get("local"), info.get("prefixlen")
            try:
                addresses.append(ipaddress.ip_interface(f"{local}/{prefix}"))
            except ValueError:
                raise ParseError(
                    f"{source}: {what} has a bad address {local!r}/{prefix!r}", source=source
                ) from None
        flags = entry.get("flags", [])
        linkinfo = entry.get("linkinfo")
        kind = linkinfo.get("info_kind") if isinstance(linkinfo, dict) else None
        if not kind and entry.get("link_type") == "loopback":
            kind = "loopback"  # as vnetkit.links reads it: lo has no IFLA_INFO_KIND
        mac = entry.get("address")
        out.append(
            Interface(
                name=name,
                index=index,
                addresses=tuple(addresses),
                mac=mac if isinstance(mac, str) else None,
                up=isinstance(flags, list) and "UP" in flags,
                kind=kind or None,
                master=entry.get("master"),
            )
        )
    return tuple(out)


def _route_family(entry: Mapping[str, Any]) -> int:
    """4 or 6 for a route whose destination is ``default`` (``ip -j route`` prints no family)."""
    for key in ("gateway", "prefsrc"):
        value = entry.get(key)
        if isinstance(value, str):
            return 6 if ":" in value else 4
    return 6 if "pref" in entry else 4  # ``pref`` (router preference) is printed for IPv6 routes only


def parse_route_json(
    text: str, interfaces: tuple[Interface, ...], *, source: str = "ip -j route"
) -> tuple[Route, ...]:
    """The routes of ``ip -j route show table all`` (both families), each naming a link of ``interfaces``.

    ``ip`` leaves out what is the default: no ``table`` is main, no
    ``metric`` is 0, no ``protocol`` is boot, no ``scope`` is global, no ``type`` is unicast.
    """
    index = {interface.name: interface.index for interface in interfaces}
    out = []
    for position, entry in enumerate(_entries(text, source)):
        dst = entry.get("dst")
        what = f"route #{position + 1} ({dst})"
        if not isinstance(dst, str):
            raise ParseError(f"{source}: {what} has no destination", source=source)
        dev = entry.get("dev")
        if dev is not None and dev not in index:
            raise ParseError(
                f"{source}: {what} names interface {dev!r}, which is not among the interfaces read",
                source=source,
            )
        gateway = entry.get("gateway")
        if isinstance(gateway, dict):  # "via": another family's gateway, as {"family": ..., "host": ...}
            gateway = gateway.get("host")
        try:
            if dst == "default":
                network = ipaddress.ip_network("::/0" if _route_family(entry) == 6 else "0.0.0.0/0")
            else:
                network = ipaddress.ip_network(dst, strict=False)
            route = Route(
                network,
                gateway=ipaddress.ip_address(gateway) if gateway is not None else None,
                dev=dev,
                metric=int(entry.get("metric", 0)),
                table=number(TABLES, str(entry.get("table", "main")), "routing table", high=2**32 - 1),
                protocol=str(entry.get("protocol", "boot")),
                scope=str(entry.get("scope", "global")),
                type=str(entry.get("type", "unicast")),
                index=index.get(dev, 0) if dev is not None else 0,
            )
        except (ValueError, TypeError) as exc:  # ConfigError is a ValueError
            raise ParseError(f"{source}: {what}: {exc}", source=source) from None
        out.append(route)
    return tuple(out)


def _selector(entry: Mapping[str, Any], key: str, family: Family, source: str, what: str) -> Any:
    value = entry.get(key)
    if value is None or value == "all":
        return None
    try:
        network = ipaddress.ip_network(f"{value}/{entry.get(key + 'len', 32 if family == 'ipv4' else 128)}")
    except ValueError:
        raise ParseError(f"{source}: {what} has a bad {key} {value!r}", source=source) from None
    if (network.version == 4) != (family == "ipv4"):
        raise ParseError(f"{source}: {what} has {key} {value}, not an {family} network", source=source)
    return network


def _mark(value: Any, source: str, what: str) -> int | None:
    if value is None:
        return None
    try:
        return int(str(value), 0)
    except ValueError:
        raise ParseError(f"{source}: {what} has a bad mark {value!r}", source=source) from None


def parse_rule_json(
    text: str, *, family: Family = "ipv4", source: str = "ip -j rule"
) -> tuple[PolicyRule, ...]:
    """The policy rules of ``ip -j rule`` (``family="ipv6"``: of ``ip -j -6 rule``), in priority order."""
    out = []
    for position, entry in enumerate(_entries(text, source)):
        priority = _field(entry, "priority", int, source, f"rule #{position + 1}")
        what = f"rule {priority}"
        table_text = entry.get("table")
        try:
            table = 0 if table_text is None else number(TABLES, str(table_text), "table", high=2**32 - 1)
        except ConfigError:
            raise ParseError(f"{source}: {what} has a bad table {table_text!r}", source=source) from None
        fwmark = _mark(entry.get("fwmark"), source, what)
        fwmask = _mark(entry.get("fwmask"), source, what)
        if fwmark is not None and fwmask is None:
            fwmask = 0xFFFFFFFF
        extra = tuple(
            sorted(
                (key, json.dumps(value))
                for key, value in entry.items()
                if key not in _RULE_KNOWN | _RULE_IGNORED
            )
        )
        action = entry.get("action")
        out.append(
            PolicyRule(
                family=family,
                priority=priority,
                table=table,
                src=_selector(entry, "src", family, source, what),
                dst=_selector(entry, "dst", family, source, what),
                iif=entry.get("iif"),
                oif=entry.get("oif"),
                fwmark=fwmark,
                fwmask=fwmask,
                invert="not" in entry,
                action=str(action) if action is not None else ("to_tbl" if table else "nop"),
                extra=extra,
            )
        )
    return tuple(out)


def parse_ipset_save(text: str, *, source: str = "ipset save") -> dict[str, IpSet]:
    """The sets of ``ipset save`` output (``create`` and ``add`` lines), by name, in the order created."""
    sets: dict[str, IpSet] = {}
    members: dict[str, set[str]] = {}
    for number_, raw in enumerate(text.splitlines(), start=1):
        words = raw.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] == "create" and len(words) >= 3:
            name = words[1]
            if name in sets:
                raise ParseError(
                    f"{source}: line {number_}: set {name!r} created twice", source=source, line=number_
                )
            sets[name] = IpSet(name=name, type=words[2], options=tuple(words[3:]))
            members[name] = set()
        elif words[0] == "add" and len(words) >= 3:
            if words[1] not in sets:
                raise ParseError(
                    f"{source}: line {number_}: add to set {words[1]!r}, which was not created before",
                    source=source,
                    line=number_,
                )
            members[words[1]].add(" ".join(words[2:]))
        else:
            raise ParseError(
                f"{source}: line {number_}: expected 'create NAME TYPE ...' or 'add NAME MEMBER', "
                f"got {raw!r}",
                source=source,
                line=number_,
            )
    return {
        name: IpSet(name=value.name, type=value.type, options=value.options, members=frozenset(members[name]))
        for name, value in sets.items()
    }


def parse_sysctl_text(text: str, *, source: str = "sysctl") -> dict[str, str]:
    """``key = value`` lines as ``sysctl`` prints them; a ``/`` inside a key's part (an interface
    called ``eth0.100`` prints as ``eth0/100``) reads back as ``.``."""
    out = {}
    for number_, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        key, sep, value = raw.partition(" = ")
        if not sep or not key.strip():
            raise ParseError(
                f"{source}: line {number_}: expected 'key = value', got {raw!r}", source=source, line=number_
            )
        out[".".join(part.replace("/", ".") for part in key.strip().split("."))] = value.strip()
    return out
