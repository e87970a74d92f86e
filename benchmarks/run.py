"""Run the benchmarks and print vnetkit/go-iptables time ratios: ``python benchmarks/run.py``.

Owns: the command line, building the anchor, the safety checks around a run
(root only; no benchmark namespace left behind; the root namespace's rules
unchanged) and printing. A missed ratio is reported, not an error: the exit
status is 0 unless the run itself could not be done (1) or the arguments were
wrong (2).

Absolute times on a shared machine are noise; only ratios against the anchor
measured in the same run, in the same namespace, are compared with the target.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

_REPO = Path(__file__).resolve().parent.parent
if __name__ == "__main__" and sys.path and Path(sys.path[0]).resolve() == _REPO / "benchmarks":
    # Run as a script: import this directory as the ``benchmarks`` package instead.
    sys.path[0] = str(_REPO)

from benchmarks import anchor, bench_iptables, report  # noqa: E402 - needs the repo root on sys.path
from vnetkit.exec import netns  # noqa: E402 - likewise
from vnetkit.iptables.caps import Backend  # noqa: E402 - likewise

_COUNTERS = re.compile(r"\[\d+:\d+\]")
_ROOT_SAVERS = ("iptables-nft-save", "ip6tables-nft-save", "iptables-legacy-save", "ip6tables-legacy-save")


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="benchmarks/run.py",
        description="Time vnetkit against go-iptables on the same rules in the same scratch namespace.",
    )
    parser.add_argument("--quick", action="store_true", help="one repetition of 200 rules: a smoke run")
    parser.add_argument("-n", "--rules", type=int, default=None, help="rules per operation (default 1000)")
    parser.add_argument(
        "--reps", type=int, default=None, help="repetitions; medians are compared (default 3)"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=bench_iptables.OPS,
        metavar="OP",
        help=f"run only this operation (repeatable): {', '.join(bench_iptables.OPS)}",
    )
    parser.add_argument(
        "--backend",
        action="append",
        choices=bench_iptables.BACKENDS,
        help="run only this backend (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="print every sample as JSON instead of the table")
    parser.add_argument(
        "--anchors", help=f"the anchors directory (default: ${anchor.ANCHORS_ENV} or ../shared/anchors)"
    )
    parser.add_argument("--goipt", type=Path, help="use this prebuilt goipt instead of building one")
    parser.add_argument(
        "--cache", type=Path, default=anchor.DEFAULT_CACHE, help="where goipt is built (default %(default)s)"
    )
    args = parser.parse_args(argv)
    args.rules = args.rules or (200 if args.quick else 1000)
    args.reps = args.reps or (1 if args.quick else 3)
    if args.rules < 1 or args.reps < 1:
        parser.error("--rules and --reps must be at least 1")
    return args


def _root_rules() -> dict[str, str]:
    """The root namespace's rules per saver, counters dropped. Reading only."""
    state = {}
    for saver in _ROOT_SAVERS:
        try:
            out = subprocess.run((saver,), capture_output=True, text=True, check=False).stdout
        except FileNotFoundError:
            continue
        state[saver] = "\n".join(
            _COUNTERS.sub("", line) for line in out.splitlines() if not line.startswith("#")
        )
    return state


def _ours() -> list[str]:
    mine = f"{bench_iptables.NETNS_PREFIX}{os.getpid()}-"
    return [name for name in netns.list_names() if name.startswith(mine)]


def _anchor_binary(args: argparse.Namespace) -> Path | None:
    if args.goipt is not None:
        return Path(args.goipt)
    try:
        return anchor.build_goipt(anchor.find_harness(_REPO, args.anchors), args.cache)
    except anchor.AnchorUnavailable as exc:
        print(f"NOTE: {exc}", file=sys.stderr)
        print("NOTE: measuring vnetkit alone: absolute times only, no ratios.", file=sys.stderr)
        return None


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Unwind normally, so every scratch namespace is deleted on the way out.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if os.geteuid() != 0:
        print(
            "benchmarks need root (CAP_NET_ADMIN, CAP_SYS_ADMIN) to make scratch namespaces", file=sys.stderr
        )
        return 2
    signal.signal(signal.SIGTERM, _on_sigterm)
    goipt = _anchor_binary(args)
    ops = [op for op in bench_iptables.OPS if not args.only or op in args.only]
    backends: list[Backend] = [b for b in bench_iptables.BACKENDS if not args.backend or b in args.backend]
    before = _root_rules()
    try:
        results = bench_iptables.run(
            goipt,
            n=args.rules,
            reps=args.reps,
            ops=ops,
            backends=backends,
            progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
    except (anchor.HarnessError, bench_iptables.BenchmarkError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        leftover = _ours()
        if leftover:
            print(f"ERROR: benchmark namespaces left behind: {', '.join(leftover)}", file=sys.stderr)
    if _root_rules() != before:
        print(
            "ERROR: the root namespace's iptables rules changed during the run; the benchmarks only "
            "work in their own namespaces, so check which other program changed them",
            file=sys.stderr,
        )
        return 1
    if leftover:
        return 1
    if args.json:
        print(json.dumps(report.to_json(results, reps=args.reps), indent=2))
        return 0
    print(
        f"\nvnetkit / go-iptables, {args.rules} rules, median of {args.reps} interleaved run(s) "
        f"per cell; target ratio <= {report.TARGET}"
    )
    print(report.format_table(results))
    missed = [f"{r.op}/{r.backend}" for r in results if r.verdict == "FAIL"]
    if goipt is None:
        print("\nno go-iptables anchor: ratios not measured (see NOTE above)")
    elif missed:
        print(f"\nMISSED the target ({len(missed)}): {', '.join(missed)}")
    else:
        print("\nall ratios within the target")
    if args.rules != 1000 or args.reps < 3:
        print("(not the reference setting: the target applies to 1000 rules, 3 repetitions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
