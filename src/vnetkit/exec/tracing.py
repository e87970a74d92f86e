"""A running ``xtables-monitor --trace --event`` in a namespace, read line by line.

Owns: starting the monitor inside the namespace (on the namespace's worker
thread, so the child inherits the namespace; ``stdbuf -oL`` because the
monitor block-buffers a pipe and would otherwise print nothing until it
exits), the reader thread that queues its lines, and stopping it (terminate,
then kill, always reaped; the child also gets SIGTERM if vnetkit dies). Does not own: what the lines mean
(``vnetkit.trace.live`` parses them) or the TRACE rules (the iptables client).
"""

from __future__ import annotations

import ctypes
import queue
import shutil
import signal
import subprocess
import threading
from types import TracebackType

from vnetkit.errors import MissingTool, OperationError
from vnetkit.exec.runner import SystemRunner, default_runner

__all__ = ["TraceMonitor"]

_STOP_WAIT = 2.0  # seconds a terminated monitor gets before it is killed
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: be sent SIGTERM when the thread that started it ends (or this process is killed)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class TraceMonitor:
    """``xtables-monitor --trace --event`` running in ``netns`` until :meth:`close`.

    Use as a context manager; :meth:`line` returns the next line printed
    (without its newline) or None when nothing came within the timeout.
    """

    def __init__(self, netns: str, *, runner: SystemRunner | None = None) -> None:
        self._netns = netns
        for program in ("xtables-monitor", "stdbuf"):
            if shutil.which(program) is None:
                package = "iptables" if program == "xtables-monitor" else "coreutils"
                raise MissingTool(f"{program}: command not found; install it: apt-get install {package}")
        self._lines: queue.Queue[str | None] = queue.Queue()
        argv = ["stdbuf", "-oL", "xtables-monitor", "--trace", "--event"]
        the_runner = runner if runner is not None else default_runner()

        def start() -> subprocess.Popen[str]:
            return subprocess.Popen(  # the worker thread is in netns: so is the child
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="surrogateescape",
                # A one-off spawn, so the slower preexec path is fine: a SIGKILLed vnetkit must
                # not leave a monitor running in the namespace.
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - no threads are touched in the child
            )

        try:
            self._proc = the_runner.call_in(netns, start)
        except OSError as exc:
            raise OperationError(f"cannot start xtables-monitor in netns {netns}: {exc.strerror}") from None
        self._reader = threading.Thread(target=self._read, name=f"xtables-monitor {netns}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        stdout = self._proc.stdout
        assert stdout is not None  # noqa: S101 - Popen was given stdout=PIPE
        for text in stdout:
            self._lines.put(text.rstrip("\n"))
        self._lines.put(None)  # end of output

    def line(self, timeout: float) -> str | None:
        """The next line, or None if none came within ``timeout`` seconds.

        ``OperationError`` if the monitor ended (it should run until closed).
        """
        try:
            text = self._lines.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
        if text is None:
            self._lines.put(None)  # stay ended for later calls
            code = self._proc.wait()
            err = self._proc.stderr.read().strip() if self._proc.stderr is not None else ""
            raise OperationError(
                f"xtables-monitor --trace in netns {self._netns} ended (status {code}): {err or 'no message'}"
            )
        return text

    def close(self) -> None:
        """Stop the monitor and reap it (idempotent)."""
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(_STOP_WAIT)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._reader.join(_STOP_WAIT)  # it reads to the end of the exited monitor's output
        for stream in (self._proc.stdout, self._proc.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> TraceMonitor:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
