"""The string- and dict-returning reads of ``Links``, kept for one release with a ``DeprecationWarning``.

Owns: ``addresses()``, ``routes()`` and ``neighbours()`` exactly as they
answered before the typed values existed, each warning once per call and
naming its replacement (``address_list``, ``route_list``,
``neighbour_list``). Removing them is deleting this module and its base.
"""

from __future__ import annotations

import socket
import warnings

from vnetkit.links import messages
from vnetkit.links.base import ClientBase

__all__ = ["DeprecatedReads"]

Strings = list[str]
Records = list[dict[str, object]]


def _deprecated(old: str, new: str, hint: str) -> None:
    warnings.warn(
        f"Links.{old}() is deprecated and goes in the next release: use Links.{new}() ({hint})",
        DeprecationWarning,
        stacklevel=3,
    )


class DeprecatedReads(ClientBase):
    """The old reads, unchanged apart from the warning."""

    def addresses(self, name: str | None = None) -> Strings:
        """``ADDRESS/PREFIX`` strings of one link, or of all links. Deprecated: ``address_list``."""
        _deprecated("addresses", "address_list", "Address values; str(a.interface) is the old string")
        if name is None:
            return [a for addrs in self._addresses_by_index().values() for a in addrs]
        index = self.index(name)
        return list(self._addresses_by_index(index).get(index, ()))

    def routes(self, *, family: int = 0, table: int | None = None) -> Records:
        """Routes as dicts: dst, gateway, dev, metric, table, family. Deprecated: ``route_list``."""
        _deprecated("routes", "route_list", "Route values")
        found = messages.decode_routes(self._dump("routes", messages.routes(family), messages.RTM_GETROUTE))
        rows = [
            {
                "dst": f"{msg.get_attr('RTA_DST')}/{msg['dst_len']}"
                if msg.get_attr("RTA_DST")
                else "default",
                "gateway": msg.get_attr("RTA_GATEWAY"),
                "oif": msg.get_attr("RTA_OIF"),
                "metric": msg.get_attr("RTA_PRIORITY"),
                "table": msg.get_attr("RTA_TABLE") or msg["table"],
                "family": "ipv6" if msg["family"] == socket.AF_INET6 else "ipv4",
            }
            for msg in found
        ]
        rows = [row for row in rows if table is None or row["table"] == table]
        names = self._names() if rows else {}
        for row in rows:
            row["dev"] = names.get(int(row.pop("oif") or 0))
        return rows

    def neighbours(self) -> Records:
        """Neighbour entries: ip, mac, dev, state (NUD_* bits). Deprecated: ``neighbour_list``."""
        _deprecated("neighbours", "neighbour_list", "Neighbour values")
        names = self._names()
        replies = self._dump("neighbours", messages.neighbours(), messages.RTM_GETNEIGH)
        return [
            {
                "ip": m.get_attr("NDA_DST"),
                "mac": m.get_attr("NDA_LLADDR"),
                "dev": names.get(int(m["ifindex"])),
                "state": m["state"],
            }
            for m in messages.decode_neighbours(replies)
        ]
