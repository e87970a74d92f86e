"""Turn a failed iptables command into the right error class.

Owns: every reading of iptables' exit status and stderr text. The messages
below were collected from iptables 1.8.9, nft and legacy backends, in
namespaces on this project's machines; both backends are mapped to the same
classes, which is what callers rely on (``except NotFound:``).
Does not own: running anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from vnetkit.errors import (
    AlreadyExists,
    CommandError,
    InUse,
    LockTimeout,
    NotFound,
    PermissionDenied,
    RuleError,
    UnsupportedError,
    VnetkitError,
)
from vnetkit.exec.runner import Completed

__all__ = ["classify_iptables", "first_error_line"]

# (substring of stderr, class); the first match wins, so specific texts first.
_RULES: tuple[tuple[str, type[VnetkitError]], ...] = (
    ("another app is currently holding the xtables lock", LockTimeout),
    ("permission denied (you must be root)", PermissionDenied),
    ("can't open lock file", PermissionDenied),
    ("operation not permitted", PermissionDenied),
    ("no chain/target/match by that name", NotFound),
    # iptables-nft's answer for a chain that does not exist (go-iptables misses it)
    ("is incompatible, use 'nft' tool", NotFound),
    ("bad rule (does a matching rule exist", NotFound),
    # nft: the rule (or chain) went away between iptables reading and committing
    ("failed (no such file or directory)", NotFound),
    ("index of deletion too big", NotFound),
    ("index of replacement too big", NotFound),
    ("index of insertion too big", NotFound),
    ("chain already exists", AlreadyExists),
    ("file exists", AlreadyExists),
    ("directory not empty", InUse),  # legacy: -X of a chain with rules
    ("too many links", InUse),  # legacy: -X of a referenced chain
    ("device or resource busy", InUse),  # nft: CHAIN_DEL of a chain with rules or references
    ("table does not exist", UnsupportedError),
)


def first_error_line(stderr: str) -> str:
    """The line of ``stderr`` that says what went wrong, without warnings and help hints."""
    for raw in stderr.splitlines():
        line = raw.strip()
        if not line or line.startswith("# Warning") or line.startswith("Try `"):
            continue
        if line.startswith("Perhaps iptables or your kernel needs"):
            continue
        return line
    return ""


# iptables-restore names the input line it failed at: "iptables-nft-restore: line 5 failed: <reason>",
# or after a reason of its own, "Error occurred at line: 5".
_FAILED_LINE = re.compile(r"line:? (\d+)")
_LINE_PREFIX = re.compile(r"^\S+: line \d+ failed:?\s*")


def _restore_failed_line(stderr: str) -> int:
    """The 1-based input line a failed iptables-restore names in ``stderr``; 0 when it names none."""
    m = _FAILED_LINE.search(stderr)
    return int(m.group(1)) if m else 0


def classify_iptables(done: Completed, *, action: str | Callable[[int], str]) -> VnetkitError:
    """Return the error to raise for a failed iptables run; ``action`` says what was tried.

    For an iptables-restore run ``action`` may be a function of the input line
    the failure names (0 when it names none), to name
    what that line came from; the reason then leaves out restore's own
    "<program>: line N failed:" prefix.
    """
    reason = first_error_line(done.stderr)
    if not isinstance(action, str):
        action = action(_restore_failed_line(done.stderr))
        if reason:
            reason = _LINE_PREFIX.sub("", reason) or "iptables-restore gave no reason, only the line"
    reason = reason or f"exit status {done.returncode}"
    if "is incompatible, use 'nft' tool" in reason:
        # iptables-nft's wording for a chain that does not exist
        reason = "the chain does not exist"
    message = f"{action}: {reason}"
    lowered = done.stderr.lower()
    for needle, cls in _RULES:
        if needle in lowered:
            if cls is PermissionDenied:
                message = f"{action}: permission denied; CAP_NET_ADMIN is needed (run as root)"
            elif cls is UnsupportedError and "table" in needle:
                message = f"{action}: {reason} (is the kernel module for this table available?)"
            elif cls is LockTimeout:
                message = f"{action}: the xtables lock is held by another program ({reason})"
            break
    else:
        # Exit 2 is iptables' PARAMETER_PROBLEM: it rejected the rule or its options.
        cls = RuleError if done.returncode == 2 else CommandError
    return cls(message, argv=done.argv, exit_status=done.returncode, stderr=done.stderr)
