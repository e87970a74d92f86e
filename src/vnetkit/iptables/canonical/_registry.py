"""The registry of extensions canonical() models: every match and target by name.

Owns: collecting the declarations of the ``_matches*`` and ``_targets*``
modules into ``MATCHES`` and ``TARGETS``. The rule grammar
(``vnetkit.iptables.rules``) reads option spellings and value counts from
here, so this module imports nothing that imports the grammar.
"""

from __future__ import annotations

from vnetkit.iptables.canonical._ext import Ext
from vnetkit.iptables.canonical._matches import MATCHES as _OTHER_MATCHES
from vnetkit.iptables.canonical._matches_ct import MATCHES as _CT_MATCHES
from vnetkit.iptables.canonical._matches_hdr import MATCHES as _HDR_MATCHES
from vnetkit.iptables.canonical._matches_hdr_bpf import MATCHES as _HDR_BPF_MATCHES
from vnetkit.iptables.canonical._matches_hdr_pkt import MATCHES as _HDR_PKT_MATCHES
from vnetkit.iptables.canonical._matches_l4 import MATCHES as _L4_MATCHES
from vnetkit.iptables.canonical._matches_rate import MATCHES as _RATE_MATCHES
from vnetkit.iptables.canonical._matches_rate_misc import MATCHES as _RATE_MISC_MATCHES
from vnetkit.iptables.canonical._matches_rate_time import MATCHES as _RATE_TIME_MATCHES
from vnetkit.iptables.canonical._matches_sctp import MATCHES as _SCTP_MATCHES
from vnetkit.iptables.canonical._targets import TARGETS as _TARGETS
from vnetkit.iptables.canonical._targets_more import TARGETS as _MORE_TARGETS
from vnetkit.iptables.canonical._targets_more_net import TARGETS as _MORE_NET_TARGETS
from vnetkit.iptables.canonical._targets_nat import TARGETS as _NAT_TARGETS

MATCHES: dict[str, Ext] = {
    spec.name: spec
    for spec in (
        *_L4_MATCHES,
        *_SCTP_MATCHES,
        *_CT_MATCHES,
        *_OTHER_MATCHES,
        *_HDR_MATCHES,
        *_HDR_PKT_MATCHES,
        *_HDR_BPF_MATCHES,
        *_RATE_MATCHES,
        *_RATE_TIME_MATCHES,
        *_RATE_MISC_MATCHES,
    )
}
TARGETS: dict[str, Ext] = {
    spec.name: spec for spec in (*_TARGETS, *_NAT_TARGETS, *_MORE_TARGETS, *_MORE_NET_TARGETS)
}
