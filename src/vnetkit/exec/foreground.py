"""Run a program in the foreground: attached to this terminal, its exit status returned.

Owns: the one spawn that does not capture output (``vnetkit ns exec``), with
Ctrl-C left to the child. Everything else runs through ``runner``.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
from collections.abc import Iterator, Sequence

from vnetkit.errors import MissingTool, PermissionDenied

__all__ = ["run_foreground"]


@contextlib.contextmanager
def _sigint_to_child() -> Iterator[None]:
    """While a foreground child runs, Ctrl-C is the child's business, not ours."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    # A Python handler, not SIG_IGN: the child's exec resets it to the default.
    previous = signal.signal(signal.SIGINT, lambda *_: None)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_foreground(argv: Sequence[str]) -> int:
    """Run ``argv`` attached to this terminal; its exit status (128+N when killed by signal N)."""
    try:
        with _sigint_to_child():
            code = subprocess.call(list(argv))
    except FileNotFoundError:
        raise MissingTool(f"{argv[0]}: command not found; install it: apt-get install iproute2") from None
    except PermissionError as exc:
        raise PermissionDenied(f"{argv[0]}: cannot execute ({exc.strerror})") from None
    return 128 - code if code < 0 else code
