"""Run the benchmarks and print vnetkit's time ratios: ``python benchmarks/run.py``.

Five suites (``--suite``, default all): ``iptables``, the verbs against the
go-iptables anchor (``bench_iptables``); ``rulesets``, transactions, sync,
snapshots and the save format against the raw iptables-restore/-save and goipt
(``bench_rulesets``); ``links``, 200 veth pairs into 200 new namespaces
against ``ip`` and pyroute2, and their teardown (``bench_links``); ``labs``,
a docker-bridge lab of 10/100/300 containers up and down against a shell
script of ``ip`` commands and Mininet, re-up, and all-pairs checks against
Mininet's pingAll (``bench_labs``); ``trace``, the trace engine's packet
decisions per second on kube-proxy-like rulesets of 1,000/10,000/100,000 rules
(target >= 100,000/s at 10,000) beside one live probe (``bench_trace``).

Owns: the command line, building the anchor, the safety checks around a run
(root only; no benchmark namespace left behind; the root namespace's rules
unchanged) and printing. A missed ratio is reported, not an error: the exit
status is 0 unless the run itself could not be done (1) or the arguments were
wrong (2).

Absolute times on a shared machine are noise; only ratios against the anchor
measured in the same run, in the same namespace, are compared with the target
(exceptions, set by their issues: parsing a 100,000-rule dump, a veth pair
and the teardown of 200 in the links suite, and a lab's up, down, re-up and
all-pairs check in the labs suite, have absolute targets).
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

from benchmarks import (  # noqa: E402 - needs the repo root on sys.path
    anchor,
    bench_iptables,
    bench_labs,
    bench_links,
    bench_rulesets,
    bench_trace,
    quiet,
    report,
)
from vnetkit.errors import VnetkitError  # noqa: E402 - likewise
from vnetkit.exec import netns  # noqa: E402 - likewise
from vnetkit.iptables.caps import Backend  # noqa: E402 - likewise

_COUNTERS = re.compile(r"\[\d+:\d+\]")
_ROOT_SAVERS = ("iptables-nft-save", "ip6tables-nft-save", "iptables-legacy-save", "ip6tables-legacy-save")
SUITES = ("iptables", "rulesets", "links", "labs", "trace", "all")
_SUITE_OPS = {
    "iptables": bench_iptables.OPS,
    "rulesets": bench_rulesets.OPS,
    "links": bench_links.OPS,
    "labs": bench_labs.OPS,
    "trace": bench_trace.OPS,
}


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="benchmarks/run.py",
        description="Time vnetkit against go-iptables and the raw iptables tools on the same rules "
        "in the same scratch namespace, and veth pairs into new namespaces against ip and pyroute2.",
    )
    parser.add_argument(
        "--suite",
        choices=SUITES,
        default="all",
        help="iptables: the verbs vs go-iptables; rulesets: transaction, sync, snapshot, save format; "
        "links: veth pairs into new namespaces vs ip and pyroute2, and their teardown; "
        "labs: docker-bridge labs up/down vs a shell script and Mininet, re-up, all-pairs checks; "
        "trace: packet decisions/s of the trace engine on kube-proxy-like rulesets and one live probe; "
        "all (default): every suite",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one repetition of 200 rules (rulesets: 1000 rules, a 10000-rule dump; "
        f"links: {bench_links.QUICK_PAIRS} pairs; labs: {_sizes(bench_labs.QUICK_SIZES)} containers, "
        f"all-pairs on {bench_labs.QUICK_CHECK_SIZE}): a smoke run",
    )
    parser.add_argument(
        "-n", "--rules", type=int, default=None, help="iptables suite: rules per operation (default 1000)"
    )
    parser.add_argument(
        "--pairs",
        type=int,
        default=None,
        help=f"links suite: veth pairs, each into its own namespace (default {bench_links.PAIRS})",
    )
    parser.add_argument(
        "--lab-sizes",
        type=_size_list,
        default=None,
        help=f"labs suite: containers per lab, comma-separated (default {_sizes(bench_labs.SIZES)})",
    )
    parser.add_argument(
        "--lab-check-size",
        type=int,
        default=None,
        help=f"labs suite: containers of the all-pairs check (default {bench_labs.CHECK_SIZE})",
    )
    parser.add_argument(
        "--trace-sizes",
        type=_rule_sizes,
        default=None,
        help=f"trace suite: rules per ruleset, comma-separated (default {_sizes(bench_trace.SIZES)})",
    )
    parser.add_argument(
        "--reps", type=int, default=None, help="repetitions; medians are compared (default 3)"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=bench_iptables.OPS + bench_rulesets.OPS + bench_links.OPS + bench_labs.OPS + bench_trace.OPS,
        metavar="OP",
        help=f"run only this operation (repeatable); iptables suite: {', '.join(bench_iptables.OPS)}; "
        f"rulesets suite: {', '.join(bench_rulesets.OPS)}; links suite: {', '.join(bench_links.OPS)}; "
        f"labs suite: {', '.join(bench_labs.OPS)}; trace suite: {', '.join(bench_trace.OPS)}",
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
    args.pairs = args.pairs or (bench_links.QUICK_PAIRS if args.quick else bench_links.PAIRS)
    args.lab_sizes = args.lab_sizes or (bench_labs.QUICK_SIZES if args.quick else bench_labs.SIZES)
    args.trace_sizes = args.trace_sizes or (bench_trace.QUICK_SIZES if args.quick else bench_trace.SIZES)
    args.lab_check_size = args.lab_check_size or (
        bench_labs.QUICK_CHECK_SIZE if args.quick else bench_labs.CHECK_SIZE
    )
    if args.rules < 1 or args.reps < 1 or args.pairs < 1:
        parser.error("--rules, --pairs and --reps must be at least 1")
    if not 2 <= args.lab_check_size <= bench_labs.MAX_CONTAINERS:
        parser.error(f"--lab-check-size: 2 to {bench_labs.MAX_CONTAINERS} containers")
    if args.pairs > 16_000:
        parser.error("--pairs: at most 16000 (the pairs' /30 networks live in 10.200.0.0/16)")
    suites = [name for name in _SUITE_OPS if args.suite in (name, "all")]
    if args.only:
        stray = [op for op in args.only if not any(op in _SUITE_OPS[name] for name in suites)]
        if stray:
            parser.error(f"--only {', '.join(stray)}: not an operation of the {args.suite} suite")
        # With --only, a suite none of whose operations was named does not run.
        suites = [name for name in suites if any(op in _SUITE_OPS[name] for op in args.only)]
    args.suites = suites
    return args


def _sizes(sizes: tuple[int, ...]) -> str:
    return ",".join(str(n) for n in sizes)


def _size_list(text: str) -> tuple[int, ...]:
    """``10,100,300``: distinct container counts, ascending."""
    try:
        sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give numbers such as 10,100,300") from None
    if not sizes or sizes[0] < 1 or sizes[-1] > bench_labs.MAX_CONTAINERS:
        raise argparse.ArgumentTypeError(f"{text!r}: each from 1 to {bench_labs.MAX_CONTAINERS}")
    return tuple(sizes)


def _rule_sizes(text: str) -> tuple[int, ...]:
    """``1000,10000``: distinct rule counts, ascending."""
    try:
        sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give numbers such as 1000,10000") from None
    if not sizes or sizes[0] < 10 or sizes[-1] > 1_000_000:
        raise argparse.ArgumentTypeError(f"{text!r}: each from 10 to 1000000")
    return tuple(sizes)


def _ops(args: argparse.Namespace, suite: str) -> list[str]:
    if suite not in args.suites:
        return []
    return [op for op in _SUITE_OPS[suite] if not args.only or op in args.only]


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


def _root_links() -> list[tuple[object, ...]]:
    """The root namespace's links and addresses (name, index, MTU, MAC, addresses). Reading only."""
    state = []
    try:
        out = subprocess.run(("ip", "-j", "addr", "show"), capture_output=True, text=True, check=False).stdout
    except FileNotFoundError:
        return []
    for link in json.loads(out or "[]"):
        addresses = sorted(f"{a.get('local')}/{a.get('prefixlen')}" for a in link.get("addr_info", ()))
        state.append(
            (link.get("ifname"), link.get("ifindex"), link.get("mtu"), link.get("address"), *addresses)
        )
    return sorted(state, key=repr)


def _ours() -> list[str]:
    mine = (f"{bench_iptables.NETNS_PREFIX}{os.getpid()}-", bench_labs.lab_prefix())
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
    ops, ruleset_ops = _ops(args, "iptables"), _ops(args, "rulesets")
    links_ops, labs_ops, trace_ops = _ops(args, "links"), _ops(args, "labs"), _ops(args, "trace")
    goipt = _anchor_binary(args) if ops or ruleset_ops else None  # the links suite needs no anchor
    backends: list[Backend] = [b for b in bench_iptables.BACKENDS if not args.backend or b in args.backend]
    sizes = bench_rulesets.QUICK if args.quick else bench_rulesets.REFERENCE
    before = _root_rules()
    links_before = _root_links()
    results: list[report.Comparison] = []
    rulesets: list[report.Measured] = []
    links: list[bench_links.Row] = []
    labs: report.Labs | None = None
    trace: report.Trace | None = None
    try:
        if ops:
            quiet.wait_for_quiet("iptables", _progress)
            results = bench_iptables.run(
                goipt, n=args.rules, reps=args.reps, ops=ops, backends=backends, progress=_progress
            )
        if ruleset_ops:
            quiet.wait_for_quiet("rulesets", _progress)
            rulesets = bench_rulesets.run(
                goipt, sizes=sizes, reps=args.reps, ops=ruleset_ops, backends=backends, progress=_progress
            )
        if links_ops:
            links = bench_links.run(pairs=args.pairs, reps=args.reps, progress=_progress)
        if labs_ops:
            labs = bench_labs.run(
                sizes=args.lab_sizes,
                check_size=args.lab_check_size,
                reps=args.reps,
                ops=labs_ops,
                anchors=args.anchors,
                progress=_progress,
            )
        if trace_ops:
            quiet.wait_for_quiet("trace", _progress)
            trace = bench_trace.run(sizes=args.trace_sizes, reps=args.reps, ops=trace_ops, progress=_progress)
    except (anchor.HarnessError, bench_iptables.BenchmarkError, VnetkitError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        leftover = _ours()
        if leftover:
            print(f"ERROR: benchmark namespaces left behind: {', '.join(leftover)}", file=sys.stderr)
    changed = [
        what
        for what, same in (
            ("iptables rules", _root_rules() == before),
            ("links or addresses", _root_links() == links_before),
        )
        if not same
    ]
    for what in changed:
        print(
            f"ERROR: the root namespace's {what} changed during the run; the benchmarks only "
            "work in their own namespaces, so check which other program changed them",
            file=sys.stderr,
        )
    if changed or leftover:
        return 1
    _output(
        args,
        goipt=goipt,
        sizes=sizes,
        results=results,
        rulesets=rulesets,
        links=links,
        labs=labs,
        trace=trace,
    )
    return 0


def _output(
    args: argparse.Namespace,
    *,
    goipt: Path | None,
    sizes: bench_rulesets.Sizes,
    results: list[report.Comparison],
    rulesets: list[report.Measured],
    links: list[bench_links.Row],
    labs: report.Labs | None,
    trace: report.Trace | None = None,
) -> None:
    """The tables of the suites that ran, or all of it as JSON with ``--json``."""
    ran = set(args.suites)
    if args.json:
        out = report.to_json(results, reps=args.reps)
        if "rulesets" in ran:
            out["rulesets"] = report.rulesets_to_json(rulesets)
        if "links" in ran:
            out["links"] = {"pairs": args.pairs, "rows": bench_links.links_to_json(links)}
        if labs is not None:
            out["labs"] = report.labs_to_json(labs)
        if trace is not None:
            out["trace"] = report.trace_to_json(trace)
        print(json.dumps(out, indent=2))
        return
    if "iptables" in ran:
        _print_iptables(args, results, goipt)
    if "rulesets" in ran:
        _print_rulesets(args, rulesets, sizes)
    if "links" in ran:
        _print_links(args, links)
    if labs is not None:
        _print_labs(args, labs)
    if trace is not None:
        _print_trace(args, trace)


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _print_iptables(args: argparse.Namespace, results: list[report.Comparison], goipt: Path | None) -> None:
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


def _print_rulesets(
    args: argparse.Namespace, results: list[report.Measured], sizes: bench_rulesets.Sizes
) -> None:
    print(
        f"\nrulesets: vnetkit vs the raw tools and go-iptables, {sizes.rules} rules "
        f"({sizes.dump} for parse); ratio = vnetkit s / baseline s, medians; same namespace per backend"
    )
    print(report.format_rulesets(results))
    missed = [f"{r.op}/{r.backend}" for r in results if r.verdict.startswith("FAIL")]
    if missed:
        print(f"\nMISSED the target ({len(missed)}): {', '.join(missed)}")
    elif any(r.verdict == "n/a" for r in results):
        print("\nthe measured rows are within their targets; rows marked n/a were not compared")
    else:
        print("\nall within the target")
    if sizes != bench_rulesets.REFERENCE or args.reps < 3:
        print("(not the reference setting: the targets apply to the default sizes, 3 repetitions)")


def _print_links(args: argparse.Namespace, rows: list[bench_links.Row]) -> None:
    print(
        f"\nlinks: {args.pairs} veth pairs, each into a new namespace, from a scratch host namespace; "
        f"median over {args.pairs} pairs x {args.reps} run(s) (teardown: median of {args.reps})"
    )
    print(bench_links.format_links(rows))
    missed = [f"{r.op} ({r.baseline_name if r.baseline else r.how})" for r in rows if r.verdict == "FAIL"]
    if missed:
        print(f"\nMISSED the target ({len(missed)}): {', '.join(missed)}")
    else:
        print("\nall within the target")
    print("no benchmark namespace left behind; the root namespace's links and addresses unchanged")
    if args.pairs != bench_links.PAIRS or args.reps < 3:
        print(f"(not the reference setting: the targets apply to {bench_links.PAIRS} pairs, 3 repetitions)")


def _print_labs(args: argparse.Namespace, labs: report.Labs) -> None:
    what = [f"up/down of {_sizes(labs.sizes)} containers"] if labs.sizes else []
    what += [f"all-pairs on {labs.check_size}"] if labs.check_size else []
    print(
        f"\nlabs: docker-bridge labs, {' and '.join(what)}; vnetkit (API in-process) vs a shell script "
        f"of ip commands vs Mininet; medians of {args.reps} interleaved run(s)"
    )
    print(report.format_labs(labs))
    missed = [g.what for g in labs.goals if g.verdict.startswith("FAIL")]
    if missed:
        print(f"\nMISSED the target ({len(missed)}): {', '.join(missed)}")
    elif any(g.verdict == "n/a" for g in labs.goals):
        print("\nthe measured rows are within their targets; rows marked n/a were not compared")
    else:
        print("\nall within the target")
    print("no benchmark namespace left behind; the root namespace's links and addresses unchanged")
    if labs.sizes != bench_labs.SIZES or labs.check_size != bench_labs.CHECK_SIZE or args.reps < 3:
        print(
            f"(not the reference setting: the targets apply to {_sizes(bench_labs.SIZES)} containers, "
            f"all-pairs on {bench_labs.CHECK_SIZE}, 3 repetitions)"
        )


def _print_trace(args: argparse.Namespace, trace: report.Trace) -> None:
    print(
        f"\ntrace: the trace engine on kube-proxy-like rulesets ({_sizes(trace.sizes)} rules), "
        f"single thread, median of {args.reps} batch(es) per row; beside it one live probe A -> R -> B"
    )
    print(report.format_trace(trace))
    missed = [f"{r.what} at {r.rules} rules" for r in trace.rows if r.verdict == "FAIL"]
    if missed:
        print(f"\nMISSED the target ({len(missed)}): {', '.join(missed)}")
    elif not any(r.target is not None for r in trace.rows):
        print(f"\nno row judged: the target applies to decide at {bench_trace.TARGET_RULES} rules")
    else:
        print("\nall within the target")
    if bench_trace.TARGET_RULES not in trace.sizes or args.reps < 3:
        print(
            f"(not the reference setting: the target applies to {bench_trace.TARGET_RULES} rules, "
            "3 repetitions)"
        )


if __name__ == "__main__":
    sys.exit(main())
