"""The netlink exchange (``exec.netlink.Channel``) against scripted kernel replies.

A datagram socket pair stands in for the kernel: the replies are queued on
the far end before the request is made, and the request the channel sent is
read back from there. What is asserted: which replies come back, how errors
and the kernel's extended-ack message surface, that stale replies are
skipped and interrupted dumps are retried. The real kernel is exercised by
every link test in ``tests/integration``.
"""

from __future__ import annotations

import errno
import socket
import struct
from collections.abc import Iterator

import pytest
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.rtnl import RTM_GETLINK, RTM_NEWLINK
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

from vnetkit.errors import AlreadyExists, ConfigError, NotFound, OperationError, PermissionDenied
from vnetkit.exec.netlink import NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_REQUEST, Channel, classify_netlink
from vnetkit.links import messages

HEADER = struct.Struct("=IHHII")
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_MULTI, NLM_F_DUMP_INTR, NLM_F_CAPPED, NLM_F_ACK_TLVS = 0x2, 0x10, 0x100, 0x200


def message(kind: int, seq: int, payload: bytes = b"", flags: int = 0) -> bytes:
    body = HEADER.pack(16 + len(payload), kind, flags, seq, 0) + payload
    return body + b"\0" * (-len(body) % 4)


def link_reply(seq: int, index: int, name: str, flags: int = NLM_F_MULTI) -> bytes:
    msg = messages.link([("IFLA_IFNAME", name)], index=index)
    msg["header"]["type"] = RTM_NEWLINK
    msg["header"]["flags"] = flags
    msg["header"]["sequence_number"] = seq
    msg.encode()
    return bytes(msg.data)


def ack(seq: int, code: int = 0, text: str = "") -> bytes:
    payload = struct.pack("=i", -code) + HEADER.pack(32, RTM_NEWLINK, 0, seq, 0)
    flags = NLM_F_CAPPED
    if text:
        raw = text.encode() + b"\0"
        attr = struct.pack("=HH", 4 + len(raw), 1) + raw
        payload += attr + b"\0" * (-len(attr) % 4)
        flags |= NLM_F_ACK_TLVS
    return message(NLMSG_ERROR, seq, payload, flags)


@pytest.fixture
def pair() -> Iterator[tuple[Channel, socket.socket]]:
    ours, kernel = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    channel = Channel(ours, inode=0)
    try:
        yield channel, kernel
    finally:
        channel.close()
        kernel.close()


def sent(kernel: socket.socket) -> tuple[int, int, int]:
    """Type, flags and sequence number of the request the channel sent."""
    _, kind, flags, seq, _ = HEADER.unpack_from(kernel.recv(65536))
    return kind, flags, seq


def test_a_request_asks_for_an_ack_and_returns_when_it_comes(pair: tuple[Channel, socket.socket]) -> None:
    channel, kernel = pair
    kernel.send(ack(1))
    assert channel.exchange(messages.link(index=3), RTM_NEWLINK, NLM_F_CREATE) == []
    kind, flags, seq = sent(kernel)
    assert (kind, seq) == (RTM_NEWLINK, 1)
    assert flags == NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE


def test_a_get_returns_its_reply_and_the_ifindex_reads_from_the_header(
    pair: tuple[Channel, socket.socket],
) -> None:
    channel, kernel = pair
    kernel.send(link_reply(1, 42, "eth0", flags=0) + ack(1))
    [reply] = channel.exchange(messages.link_by_name("eth0"), RTM_GETLINK, 0)
    assert messages.ifindex_of(reply) == 42
    [decoded] = messages.decode(ifinfmsg, [reply])
    assert decoded.get_attr("IFLA_IFNAME") == "eth0"


def test_a_kernel_error_carries_errno_and_the_extended_ack_message(
    pair: tuple[Channel, socket.socket],
) -> None:
    channel, kernel = pair
    kernel.send(ack(1, errno.EEXIST, "ipv4: Address already assigned"))
    with pytest.raises(NetlinkError) as caught:
        channel.exchange(messages.link(index=3), RTM_NEWLINK, 0)
    assert caught.value.code == errno.EEXIST
    error = classify_netlink(caught.value, action="add address 10.0.0.1/24 to a")
    assert isinstance(error, AlreadyExists)
    assert str(error) == "add address 10.0.0.1/24 to a: File exists (ipv4: Address already assigned)"


def test_replies_to_an_abandoned_request_are_skipped(pair: tuple[Channel, socket.socket]) -> None:
    channel, kernel = pair
    kernel.send(link_reply(7, 9, "stale", flags=0) + ack(7))  # an earlier request's, never read
    kernel.send(link_reply(1, 5, "veth0", flags=0) + ack(1))
    replies = channel.exchange(messages.link_by_name("veth0"), RTM_GETLINK, 0)
    assert [messages.ifindex_of(r) for r in replies] == [5]


def test_a_dump_collects_every_datagram_until_done(pair: tuple[Channel, socket.socket]) -> None:
    channel, kernel = pair
    kernel.send(link_reply(1, 1, "lo") + link_reply(1, 2, "a"))
    kernel.send(link_reply(1, 3, "b"))
    kernel.send(message(NLMSG_DONE, 1, struct.pack("=i", 0), NLM_F_MULTI))
    replies = channel.exchange(messages.link(), RTM_GETLINK, NLM_F_DUMP)
    names = [m.get_attr("IFLA_IFNAME") for m in messages.decode(ifinfmsg, replies)]
    assert names == ["lo", "a", "b"]
    _, flags, _ = sent(kernel)
    assert flags & NLM_F_DUMP == NLM_F_DUMP
    assert not flags & NLM_F_ACK  # a dump ends with NLMSG_DONE, not an ack


def test_an_interrupted_dump_is_read_again(pair: tuple[Channel, socket.socket]) -> None:
    channel, kernel = pair
    kernel.send(link_reply(1, 1, "lo") + link_reply(1, 2, "half", flags=NLM_F_MULTI | NLM_F_DUMP_INTR))
    kernel.send(message(NLMSG_DONE, 1, struct.pack("=i", 0), NLM_F_MULTI | NLM_F_DUMP_INTR))
    kernel.send(link_reply(2, 1, "lo") + link_reply(2, 2, "whole"))
    kernel.send(message(NLMSG_DONE, 2, struct.pack("=i", 0), NLM_F_MULTI))
    replies = channel.exchange(messages.link(), RTM_GETLINK, NLM_F_DUMP)
    assert [m.get_attr("IFLA_IFNAME") for m in messages.decode(ifinfmsg, replies)] == ["lo", "whole"]
    assert [sent(kernel)[2], sent(kernel)[2]] == [1, 2]


def test_a_truncated_or_malformed_reply_is_an_error_not_garbage(pair: tuple[Channel, socket.socket]) -> None:
    channel, kernel = pair
    kernel.send(message(RTM_NEWLINK, 1, b"\0" * 70_000))
    with pytest.raises(NetlinkError) as caught:
        channel.exchange(messages.link(), RTM_GETLINK, 0)
    assert caught.value.code == errno.EMSGSIZE
    kernel.send(HEADER.pack(400, RTM_NEWLINK, 0, 2, 0))  # says 400 bytes, has 16
    with pytest.raises(NetlinkError) as caught:
        channel.exchange(messages.link(), RTM_GETLINK, 0)
    assert caught.value.code == errno.EBADMSG


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (errno.ENODEV, NotFound),
        (errno.EINVAL, ConfigError),
        (errno.EPERM, PermissionDenied),
        (errno.ELOOP, OperationError),
    ],
)
def test_errno_maps_to_the_error_tree(code: int, cls: type[Exception]) -> None:
    error = classify_netlink(NetlinkError(code, ""), action="set master br0 of br0")
    assert type(error) is cls
    assert str(error).startswith("set master br0 of br0: ")
