"""The go-iptables anchor: find the ``goipt`` harness, build it once, run it in a namespace.

Owns: locating ``../shared/anchors/go-iptables`` (or the directory given by
``--anchors`` / ``$VNETKIT_ANCHORS``), building ``goipt`` with its own
``build.sh`` into a private cache named after the source's hash, and running
``ip netns exec NS goipt OP N [legacy]`` with its output parsed.
Does not own: namespaces (the caller makes and deletes them) or what is
compared (``bench_iptables``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = [
    "ANCHORS_ENV",
    "DEFAULT_CACHE",
    "AnchorUnavailable",
    "HarnessError",
    "build_goipt",
    "find_harness",
    "run_goipt",
]

ANCHORS_ENV = "VNETKIT_ANCHORS"
DEFAULT_CACHE = Path("/tmp/vnetkit-bench")  # noqa: S108 - checked: ours, 0700, not a symlink

_HARNESS = "go-iptables"
_RUN_TIMEOUT = 900.0  # seconds; nft deletes of 1000 rules take ~15 s on this machine


class AnchorUnavailable(Exception):
    """The go-iptables harness cannot be found or built; the message says how to fix it."""


class HarnessError(Exception):
    """``goipt`` ran but failed or printed something unexpected."""


def find_harness(repo_root: Path, override: str | None = None) -> Path:
    """The go-iptables anchor: under ``override``, ``$VNETKIT_ANCHORS`` or ``<repo>/../shared/anchors``."""
    given = override or os.environ.get(ANCHORS_ENV)
    anchors = Path(given) if given else repo_root.parent / "shared" / "anchors"
    harness = anchors / _HARNESS
    missing = [name for name in ("build.sh", "main.go") if not (harness / name).is_file()]
    if missing:
        raise AnchorUnavailable(
            f"go-iptables anchor not found: {harness} lacks {', '.join(missing)}; "
            f"point --anchors or ${ANCHORS_ENV} at the directory that holds {_HARNESS}/"
        )
    return harness


def _private_dir(path: Path) -> Path:
    """Create ``path`` (mode 0700) or accept it only if it is ours and not writable by others.

    The harness is executed as root from here, so a directory someone else
    could have planted or can write into is refused.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = path.lstat()
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
        raise AnchorUnavailable(
            f"refusing cache directory {path}: it must be a directory owned by uid {os.geteuid()} "
            "and writable only by it (remove it, or pass --cache)"
        )
    return path


def build_goipt(harness: Path, cache: Path = DEFAULT_CACHE) -> Path:
    """Return a built ``goipt``, building it with the anchor's ``build.sh`` unless cached.

    The binary's name carries a hash of ``main.go`` and ``build.sh``, so an
    edited anchor is rebuilt and a stale binary is never used. ``build.sh``
    installs Go from apt when it is missing; its progress goes to stderr.
    """
    digest = hashlib.sha256()
    for name in ("build.sh", "main.go"):
        digest.update((harness / name).read_bytes())
    cache = _private_dir(cache)
    binary = cache / f"goipt-{digest.hexdigest()[:16]}"
    if binary.is_file() and os.access(binary, os.X_OK):
        return binary
    print(f"building the go-iptables harness into {binary} ...", file=sys.stderr, flush=True)
    partial = cache / f".{binary.name}.{os.getpid()}"
    env = {**os.environ, "GOCACHE": str(cache / "gocache")}
    try:
        done = subprocess.run(
            ("sh", str(harness / "build.sh"), str(partial)),
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if done.returncode != 0 or not partial.is_file():
            tail = "\n".join(done.stderr.strip().splitlines()[-15:])
            raise AnchorUnavailable(
                f"building the go-iptables harness failed (exit {done.returncode}):\n{tail}"
            )
        partial.replace(binary)
    finally:
        partial.unlink(missing_ok=True)
    return binary


def run_goipt(
    goipt: Path, netns: str, op: str, n: int, *, backend: str, timeout: float = _RUN_TIMEOUT
) -> float:
    """Run ``goipt OP N`` inside ``netns`` on ``backend`` and return the seconds it measured.

    Past ``timeout`` seconds goipt is killed and ``HarnessError`` raised.

    goipt's legacy mode puts a temporary ``iptables`` symlink first on PATH
    and never removes it; giving it a private TMPDIR lets us remove it. For
    the nft backend the same trick pins ``iptables`` to ``iptables-nft``, so
    the anchor does not follow the system's alternatives link.
    """
    real = shutil.which(f"iptables-{backend}")
    if real is None:
        raise HarnessError(f"iptables-{backend} is not installed (apt-get install iptables)")
    with tempfile.TemporaryDirectory(prefix="goipt-") as scratch:
        bindir = Path(scratch, "bin")
        bindir.mkdir()
        (bindir / "iptables").symlink_to(real)
        env = {**os.environ, "TMPDIR": scratch, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"}
        legacy = ("legacy",) if backend == "legacy" else ()
        argv = ("ip", "netns", "exec", netns, str(goipt), op, str(n), *legacy)
        try:
            done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise HarnessError(f"{' '.join(argv)}: no answer within {timeout:g} s; killed") from None
    if done.returncode != 0:
        raise HarnessError(f"{' '.join(argv)} failed (exit {done.returncode}): {done.stderr.strip()}")
    fields = done.stdout.split()
    # One line: OP N SECONDS CALLS_PER_SECOND
    if len(fields) != 4 or fields[0] != op or fields[1] != str(n):
        raise HarnessError(f"{' '.join(argv)}: expected 'OP N SECONDS RATE', got {done.stdout!r}")
    try:
        return float(fields[2])
    except ValueError:
        raise HarnessError(f"{' '.join(argv)}: unreadable seconds {fields[2]!r}") from None
