"""The only code that touches the system: processes, namespaces, locks.

Everything above ``exec/`` receives a :class:`Runner` (the real default is
:func:`default_runner`), so tests can pass :class:`FakeRunner` instead.
"""

from vnetkit.exec.fake import FakeRunner
from vnetkit.exec.runner import Completed, Runner, SystemRunner, default_runner

__all__ = ["Completed", "FakeRunner", "Runner", "SystemRunner", "default_runner"]
