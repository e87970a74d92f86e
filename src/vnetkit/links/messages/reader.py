"""Reading a namespace fast: replies picked apart with ``struct``, and the three dump requests packed.

Owns: ``read_links``, ``read_addresses``, ``read_routes`` (the fixed header
and only the attributes ``links.records`` reads, out of the reply's bytes;
a link's IFLA_INFO_DATA, whose layout depends on its kind, still decoded by
pyroute2, that attribute alone), the ``Reply`` they return (answering
``msg[...]`` and ``get_attr`` as pyroute2's messages do), and the requests
of that path (``link_dump``, ``address_dump``, ``routes_of_table``), packed
into the bytes pyroute2 would write. Part of the message layer (it may
import pyroute2). Pure.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg, state_by_code
from pyroute2.netlink.rtnl.rtmsg import rtmsg

__all__ = [
    "Reply",
    "address_dump",
    "link_dump",
    "read_addresses",
    "read_links",
    "read_routes",
    "routes_of_table",
]

SKIP_STATS = 1 << 3  # RTEXT_FILTER_SKIP_STATS: a third of a link message, and of its decoding

_IFINFOMSG = struct.Struct("=BxHiII")  # family, device type, ifindex, flags, change
_IFADDRMSG = struct.Struct("=BBBBI")  # family, prefix length, flags, scope, ifindex
_RTMSG = struct.Struct("=BBBBBBBBI")  # family, dst_len, src_len, tos, table, protocol, scope, type, flags
_RTATTR = struct.Struct("=HH")  # rtattr: length (header included), type
_U32 = struct.Struct("=I")
_S32 = struct.Struct("=i")
_NLMSGHDR = 16
_NLA_TYPE_MASK = 0x3FFF  # the type without NLA_F_NESTED and NLA_F_NET_BYTEORDER
_IFLA_LINKINFO = 18
_IFLA_INFO_KIND = 1
_IFLA_INFO_DATA = 2
_IFLA_INFO_SLAVE_KIND = 4
_IFLA_INFO_SLAVE_DATA = 5
_RT_TABLE_COMPAT = 252  # rtm_table of a route in a table above 255 (its number is in RTA_TABLE)
_IP_FAMILY = {4: socket.AF_INET, 16: socket.AF_INET6}

Decoder = Callable[[bytes, int, int], object]  # (reply, payload start, payload end) -> value


class Reply:
    """A reply read just enough: its fixed header's fields and some of its attributes, by pyroute2's names.

    Read the way ``links.records`` reads a pyroute2 message: ``reply["index"]``
    (a header field) and ``reply.get_attr("IFLA_IFNAME")`` (None when absent),
    holding what pyroute2 would decode (text for names, ``aa:bb:...`` for a
    MAC, an IP address as ``inet_ntop`` writes it, the operational state as
    its word, a nested attribute as a ``Reply``, a link's IFLA_INFO_DATA as
    pyroute2's own message). Only the attributes the reader was told to read
    are there: absent is not proof the kernel did not send one.
    """

    __slots__ = ("_attrs", "_fields")

    def __init__(self, fields: Mapping[str, int], attrs: Mapping[str, object]) -> None:
        self._fields = fields
        self._attrs = attrs

    def __getitem__(self, field: str) -> int:
        return self._fields[field]

    def get_attr(self, name: str) -> Any:
        """The attribute ``name`` as pyroute2 decodes it; None if absent (or not read)."""
        return self._attrs.get(name)

    def __repr__(self) -> str:
        return f"Reply({dict(self._fields)!r}, {dict(self._attrs)!r})"


def _u8(data: bytes, start: int, end: int) -> int:
    return data[start]


def _u32(data: bytes, start: int, end: int) -> int:
    return int(_U32.unpack_from(data, start)[0])


def _s32(data: bytes, start: int, end: int) -> int:
    return int(_S32.unpack_from(data, start)[0])


def _text(data: bytes, start: int, end: int) -> str | bytes:
    """A NUL-terminated string, as pyroute2's ``asciiz``: text, or the bytes if they are not UTF-8."""
    raw = data[start:end].strip(b"\0")
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw


def _mac(data: bytes, start: int, end: int) -> str:
    """A link-layer address as ``aa:bb:cc:dd:ee:ff`` (every byte of it, whatever its length)."""
    return data[start:end].hex(":")


def _ip(data: bytes, start: int, end: int) -> str:
    """An IPv4 or IPv6 address (by its length, as pyroute2's ``ipaddr``) as ``inet_ntop`` writes it."""
    family = _IP_FAMILY.get(end - start)
    if family is None:  # not an IP address (an MPLS label...): its bytes
        return data[start:end].hex()
    return socket.inet_ntop(family, data[start:end])


def _operstate(data: bytes, start: int, end: int) -> str:
    code = data[start]
    return str(state_by_code.get(code, code))


def _attributes(
    data: bytes, offset: int, end: int, schema: Mapping[int, tuple[str, Decoder]]
) -> dict[str, object]:
    """The attributes between ``offset`` and ``end`` that ``schema`` names, decoded (the first of each)."""
    found: dict[str, object] = {}
    unpack = _RTATTR.unpack_from
    while offset + 4 <= end:
        length, kind = unpack(data, offset)
        if length < 4:
            break
        entry = schema.get(kind & _NLA_TYPE_MASK)
        if entry is not None and entry[0] not in found:
            found[entry[0]] = entry[1](data, offset + 4, min(offset + length, end))
        offset += (length + 3) & ~3
    return found


def _spans(data: bytes, offset: int, end: int) -> dict[int, tuple[int, int]]:
    """Where each attribute between ``offset`` and ``end`` lies (header included), by type (the first)."""
    found: dict[int, tuple[int, int]] = {}
    while offset + 4 <= end:
        length, kind = _RTATTR.unpack_from(data, offset)
        if length < 4:
            break
        found.setdefault(kind & _NLA_TYPE_MASK, (offset, min(offset + length, end)))
        offset += (length + 3) & ~3
    return found


def _padded(attribute: bytes) -> bytes:
    return attribute + b"\0" * (-len(attribute) % 4)


def _info_data(data: bytes, kind: tuple[int, int], info: tuple[int, int]) -> Any:
    """IFLA_INFO_DATA decoded by pyroute2 (its layout depends on the kind): an IFLA_LINKINFO of the two."""
    body = _padded(data[kind[0] : kind[1]]) + _padded(data[info[0] : info[1]])
    linkinfo = ifinfmsg.ifinfo(_RTATTR.pack(4 + len(body), _IFLA_LINKINFO) + body)
    linkinfo.decode()
    return linkinfo.get_attr("IFLA_INFO_DATA")


_BRIDGE_PORT: dict[int, tuple[str, Decoder]] = {4: ("IFLA_BRPORT_MODE", _u8)}


def _linkinfo(data: bytes, start: int, end: int) -> Reply:
    """IFLA_LINKINFO: the kind, a bridge port's hairpin mode, and the kind's data (by pyroute2, if any)."""
    spans = _spans(data, start, end)
    attrs: dict[str, object] = {}
    kind = spans.get(_IFLA_INFO_KIND)
    if kind is not None:
        attrs["IFLA_INFO_KIND"] = _text(data, kind[0] + 4, kind[1])
        info = spans.get(_IFLA_INFO_DATA)
        if info is not None:
            attrs["IFLA_INFO_DATA"] = _info_data(data, kind, info)
    slave = spans.get(_IFLA_INFO_SLAVE_KIND)
    if slave is not None:
        slave_kind = attrs["IFLA_INFO_SLAVE_KIND"] = _text(data, slave[0] + 4, slave[1])
        port = spans.get(_IFLA_INFO_SLAVE_DATA)
        if port is not None and slave_kind == "bridge":
            attrs["IFLA_INFO_SLAVE_DATA"] = Reply({}, _attributes(data, port[0] + 4, port[1], _BRIDGE_PORT))
    return Reply({}, attrs)


_LINK: dict[int, tuple[str, Decoder]] = {
    1: ("IFLA_ADDRESS", _mac),
    3: ("IFLA_IFNAME", _text),
    4: ("IFLA_MTU", _u32),
    5: ("IFLA_LINK", _u32),
    10: ("IFLA_MASTER", _u32),
    16: ("IFLA_OPERSTATE", _operstate),
    _IFLA_LINKINFO: ("IFLA_LINKINFO", _linkinfo),
    20: ("IFLA_IFALIAS", _text),
    27: ("IFLA_GROUP", _u32),
    37: ("IFLA_LINK_NETNSID", _s32),
}
_ADDRESS: dict[int, tuple[str, Decoder]] = {
    1: ("IFA_ADDRESS", _ip),
    2: ("IFA_LOCAL", _ip),
    8: ("IFA_FLAGS", _u32),
}
_ROUTE: dict[int, tuple[str, Decoder]] = {
    1: ("RTA_DST", _ip),
    4: ("RTA_OIF", _u32),
    5: ("RTA_GATEWAY", _ip),
    6: ("RTA_PRIORITY", _u32),
    15: ("RTA_TABLE", _u32),
}


def _end(data: bytes) -> int:
    return min(int(_U32.unpack_from(data)[0]), len(data))


def read_links(replies: Iterable[bytes]) -> list[Reply]:
    """RTM_NEWLINK replies read for ``records.link_from_message``: index, flags, name, MTU, MAC, master,
    alias, group, peer or lower link and its namespace id, operational state, kind, kind-specific data
    and a bridge port's hairpin mode. Statistics, AF_SPEC and the rest are skipped unread."""
    out = []
    offset = _NLMSGHDR + _IFINFOMSG.size
    for data in replies:
        family, dev_type, index, flags, change = _IFINFOMSG.unpack_from(data, _NLMSGHDR)
        fields = {"family": family, "ifi_type": dev_type, "index": index, "flags": flags, "change": change}
        out.append(Reply(fields, _attributes(data, offset, _end(data), _LINK)))
    return out


def read_addresses(replies: Iterable[bytes]) -> list[Reply]:
    """RTM_NEWADDR replies read for ``records.address_from_message``: the header, IFA_ADDRESS, IFA_LOCAL
    and IFA_FLAGS."""
    out = []
    offset = _NLMSGHDR + _IFADDRMSG.size
    for data in replies:
        family, prefixlen, flags, scope, index = _IFADDRMSG.unpack_from(data, _NLMSGHDR)
        fields = {"family": family, "prefixlen": prefixlen, "flags": flags, "scope": scope, "index": index}
        out.append(Reply(fields, _attributes(data, offset, _end(data), _ADDRESS)))
    return out


def read_routes(replies: Iterable[bytes], *, table: int | None = None) -> list[Reply]:
    """RTM_NEWROUTE replies read for ``records.route_from_message`` (the header, RTA_DST, RTA_GATEWAY,
    RTA_OIF, RTA_PRIORITY, RTA_TABLE), only those of ``table`` (None: every table).

    The table is checked here whatever the kernel filtered (``routes_of_table``
    asks it to; a kernel without strict checking, or a fake, sends every route):
    a route of another table is skipped from its header alone.
    """
    out = []
    offset = _NLMSGHDR + _RTMSG.size
    in_header = None if table is None else (table if table < 256 else _RT_TABLE_COMPAT)
    for data in replies:
        family, dst_len, src_len, tos, number, proto, scope, kind, flags = _RTMSG.unpack_from(data, _NLMSGHDR)
        if in_header is not None and number != in_header:
            continue
        attrs = _attributes(data, offset, _end(data), _ROUTE)
        if table is not None and int(str(attrs.get("RTA_TABLE") or number)) != table:
            continue
        fields = {"family": family, "dst_len": dst_len, "src_len": src_len, "tos": tos, "table": number}
        fields |= {"proto": proto, "scope": scope, "type": kind, "flags": flags}
        out.append(Reply(fields, attrs))
    return out


# -- dump requests packed by struct: pyroute2's encoder takes some 25 us for each ----------------

_NLMSGHDR_STRUCT = struct.Struct("=IHHII")  # length, type, flags, sequence number, port id
_IFLA_EXT_MASK = 29
_RTA_TABLE = 15


def _rtattr(kind: int, payload: bytes) -> bytes:
    return _padded(_RTATTR.pack(4 + len(payload), kind) + payload)


def _pack(msg: Any, body: bytes) -> None:
    """``msg.data``: the netlink header the sender filled in, then ``body``; what pyroute2's encode writes."""
    header = msg["header"]
    length = header["length"] = _NLMSGHDR + len(body)
    fields = (header["type"], header["flags"], header["sequence_number"], header["pid"])
    msg.data = bytearray(_NLMSGHDR_STRUCT.pack(length, *fields) + body)
    msg.length = length


class _LinkDump(ifinfmsg):  # type: ignore[misc]  # pyroute2 has no type information
    """``links()`` encoded by ``struct``: a zero ifinfomsg and IFLA_EXT_MASK (skip statistics)."""

    def encode(self) -> None:
        _pack(self, _IFINFOMSG.pack(0, 0, 0, 0, 0) + _rtattr(_IFLA_EXT_MASK, _U32.pack(SKIP_STATS)))


class _AddressDump(ifaddrmsg):  # type: ignore[misc]  # pyroute2 has no type information
    """``address(0)`` encoded by ``struct``: a zero ifaddrmsg (every address of every link)."""

    def encode(self) -> None:
        _pack(self, _IFADDRMSG.pack(0, 0, 0, 0, 0))


class _RouteDump(rtmsg):  # type: ignore[misc]  # pyroute2 has no type information
    """``routes_of_table(table)`` encoded by ``struct``: a zero rtmsg (every family) and RTA_TABLE."""

    def encode(self) -> None:
        table = dict(self["attrs"])["RTA_TABLE"]
        _pack(self, _RTMSG.pack(0, 0, 0, 0, 0, 0, 0, 0, 0) + _rtattr(_RTA_TABLE, _U32.pack(table)))


def link_dump() -> Any:
    """The request of ``links()``, encoded without pyroute2's encoder: every link, without the statistics
    the mask can drop (IPv6's, in IFLA_AF_SPEC; IFLA_STATS64 comes regardless) and without VF details
    (RTEXT_FILTER_VF is not asked for)."""
    msg = _LinkDump()
    msg["attrs"] = [("IFLA_EXT_MASK", SKIP_STATS)]
    return msg


def address_dump() -> Any:
    """The request of ``address(0)`` (every address), encoded without pyroute2's encoder."""
    return _AddressDump()


def routes_of_table(table: int) -> Any:
    """A route dump request (every family) for the routes of ``table`` only, filtered by the kernel
    (RTA_TABLE, as ``ip route show table N`` asks on a socket with strict checking; a kernel without
    it sends every route), encoded without pyroute2's encoder."""
    msg = _RouteDump()
    msg["attrs"] = [("RTA_TABLE", table)]
    return msg
