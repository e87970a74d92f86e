"""``FakeNetlink``: rtnetlink answered from an in-memory kernel, for tests of netlink clients without root.

It implements the ``Netlink`` protocol (``vnetkit.exec.netlink``): a
request is a pyroute2 message, the replies are the bytes the kernel would
send (``ifinfmsg``, ``ifaddrmsg``, ``rtmsg``, ``ndmsg``, ``nsidmsg`` with
their netlink headers), and a refusal is the vnetkit error the real backend
raises for the kernel's errno and extended-ack text. Proved against the
kernel by ``tests/integration/test_fake_netlink.py``, which runs one
sequence of ``Links`` operations on both and compares what they read back,
down to the attributes on the wire.

Modelled (``_links``, ``_ip``; their docstrings say how): namespaces with
``lo``; veth (across namespaces, with the ids each gives the other),
bridge, vxlan, macvlan, macvtap and ifb links; ifindexes, random MACs,
carriers and operational states, bridges taking their ports' MAC and MTU;
up/down, MTU, MAC, master, alias, group and name changes, a bridge
port's hairpin mode (its other port settings are reported at their
defaults); deletes with what goes along (peers, upper devices, a group in one request); IPv4 and
IPv6 addresses with the routes the kernel adds for them, link-local
addresses, DAD's tentative state while a link has no carrier; routes in
any table, with the kernel's next-hop checks; permanent neighbours;
NLM_F_CREATE/EXCL/REPLACE/ECHO/DUMP; the kernel's refusals, errnos and
messages.

Not modelled: what is not rtnetlink (tun/tap devices are made by ioctl and
sysctls are files: ``in_namespace`` refuses), link kinds beyond those six
(vlan, ipvlan, dummy... are "Unknown device type", as on a kernel without
them), STP timers, link statistics, changing a link's kind-specific
settings after creation, moving links between namespaces, multipath
routes, policy rules, route lookups (RTM_GETROUTE without a dump), timing
(replies show the state the kernel settles in once DAD and linkwatch are
done), and traffic (no learned or multicast neighbour entries).
"""

from vnetkit.exec.fake_netlink._backend import FakeNetlink

__all__ = ["FakeNetlink"]
