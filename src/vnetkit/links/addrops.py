"""The address verbs of ``Links``: add, delete, ensure and list the addresses of links.

Owns: taking an address as text (``ADDRESS/PREFIX``), an ``ipaddress``
interface or an ``Address`` (whose scope and settable flags are sent too),
the RTM_NEWADDR / RTM_DELADDR requests, ``ensure_address`` (leaves the
address alone if the link has it, reports the same IP with another prefix)
and reading addresses back as ``Address`` values.
Does not own: links, routes, sysctls (the other parts of ``Links``).
"""

from __future__ import annotations

import ipaddress

from vnetkit.errors import AlreadyExists, ConfigError
from vnetkit.exec.netlink import NLM_F_CREATE, NLM_F_EXCL
from vnetkit.links import messages
from vnetkit.links.base import ClientBase
from vnetkit.links.records import address_from_message
from vnetkit.model.addresses import Address, Interface
from vnetkit.model.names import ADDRESS_FLAGS, SCOPES, bits, number

__all__ = ["AddressLike", "AddressOps"]

AddressLike = str | Interface | Address
"""An address to add or delete: ``"10.0.0.1/24"``, ``ip_interface(...)`` or an ``Address``."""

_CREATE = NLM_F_CREATE | NLM_F_EXCL
# The IFA_F_* flags a request may ask for; the others are the kernel's to set.
_SETTABLE = frozenset({"nodad", "optimistic", "home", "mngtmpaddr", "noprefixroute", "autojoin"})


def _interface(text: str) -> Interface:
    try:
        return ipaddress.ip_interface(text)
    except ValueError:
        raise ConfigError(f"invalid address {text!r}: use ADDRESS/PREFIX like 10.0.0.1/24") from None


def _wanted(name: str, address: AddressLike) -> tuple[Interface, int, int]:
    """The interface, scope and IFA_F_* flags to ask for on link ``name``."""
    if isinstance(address, Address):
        if address.dev is not None and address.dev != name:
            raise ConfigError(f"address {address} is on {address.dev}, not on {name}")
        scope = number(SCOPES, address.scope, "address scope")
        return address.interface, scope, bits(ADDRESS_FLAGS, address.flags & _SETTABLE, "address flag")
    if isinstance(address, ipaddress.IPv4Interface | ipaddress.IPv6Interface):
        return address, 0, 0
    if isinstance(address, str):
        return _interface(address), 0, 0
    raise ConfigError(f"invalid address {address!r}: give ADDRESS/PREFIX text, an interface or an Address")


class AddressOps(ClientBase):
    """Addresses of the links of one namespace."""

    def add_address(self, name: str, address: AddressLike) -> None:
        """Add ``address`` (``ADDRESS/PREFIX``, IPv4 or IPv6, or an ``Address``) to link ``name``."""
        iface, scope, flags = _wanted(name, address)
        self._add_address(name, self.index(name), iface, scope, flags)

    def _add_address(self, name: str, index: int, iface: Interface, scope: int, flags: int) -> None:
        request = messages.address(index, str(iface.ip), iface.network.prefixlen, scope=scope, flags=flags)
        self._send(f"add address {iface} to {self._where(name)}", request, messages.RTM_NEWADDR, _CREATE)

    def delete_address(self, name: str, address: AddressLike) -> None:
        """Remove ``address`` (``ADDRESS/PREFIX`` or an ``Address``) from link ``name``."""
        iface, _, _ = _wanted(name, address)
        request = messages.address(self.index(name), str(iface.ip), iface.network.prefixlen)
        self._send(f"delete address {iface} from {self._where(name)}", request, messages.RTM_DELADDR)

    def ensure_address(self, name: str, address: AddressLike) -> bool:
        """Add ``address`` unless the link has it; True if added.

        The same IP on the link with another prefix length is ``AlreadyExists``
        naming both (the kernel would keep the two side by side).
        """
        iface, scope, flags = _wanted(name, address)
        index = self.index(name)
        have = self._addresses_by_index(index).get(index, ())
        if str(iface) in have:
            return False
        other = [a for a in have if ipaddress.ip_interface(a).ip == iface.ip]
        if other:
            raise AlreadyExists(f"{self._where(name)} has {other[0]}, wanted {iface}")
        self._add_address(name, index, iface, scope, flags)
        return True

    def address_list(self, name: str | None = None) -> list[Address]:
        """The addresses of link ``name``, or of every link, as ``Address`` values (in the kernel's order)."""
        if name is None:
            found = self._address_messages()
            names = self._names() if found else {}
        else:
            index = self.index(name)
            found = self._address_messages(index)
            names = {index: name}
        return [address_from_message(msg, names) for msg in found]
