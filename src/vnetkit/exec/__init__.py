"""The only code that touches the system: processes, namespaces, locks.

Everything above ``exec/`` receives a :class:`Runner` (the real default is
:func:`default_runner`), so tests can pass :class:`FakeRunner` instead; and
a netlink backend, for which tests pass :class:`FakeNetlink` (imported on
first use: it brings an in-memory kernel along).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vnetkit.exec.fake import FakeRunner
from vnetkit.exec.runner import Completed, Runner, SystemRunner, default_runner

if TYPE_CHECKING:
    from vnetkit.exec.fake_netlink import FakeNetlink

__all__ = ["Completed", "FakeNetlink", "FakeRunner", "Runner", "SystemRunner", "default_runner"]


def __getattr__(name: str) -> object:
    if name == "FakeNetlink":
        from vnetkit.exec.fake_netlink import FakeNetlink  # noqa: PLC0415 - only tests need it

        return FakeNetlink
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
