"""Two revisions of the streaming jobs through the same benchmark, in the same run: their ratio, on any machine.

    .venv/bin/python benchmarks/bench_revisions.py --before f0b9785^ --after HEAD
    .venv/bin/python benchmarks/bench_revisions.py --before f0b9785^ --sets 5 -- --mode throughput --events 500000
    .venv/bin/python benchmarks/bench_revisions.py --before f0b9785^ -- --mode latency --seconds 60

An absolute figure (events/s, seconds) belongs to the machine that measured it: the 154,000 events/s of
change 15 came from a 2-vCPU Intel Xeon, and the same code measured ~80,000 on the 2-vCPU AMD EPYC of
later sessions. What a change costs is the ratio of the two revisions measured side by side.

Each revision is checked out in a temporary detached worktree, and *its own* benchmarks/bench_streaming.py
runs there with this interpreter and the arguments after `--` (default: the throughput benchmark at
500,000 events, 3 runs after 1 warm-up): the script puts its own worktree first on the import path, so it
measures that revision's jobs. Sets alternate before/after, each a fresh process, so a drifting machine
touches both alike. Reported per measure: each revision's median of its sets' medians, and after/before
(above 1 is better for rates, events/s; worse for latency seconds).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCHMARK = Path("benchmarks/bench_streaming.py")
DEFAULT_BENCH_ARGS = ("--mode", "throughput", "--events", "500000", "--runs", "3", "--warmup-runs", "1")
# Rates (events/s), whose larger value is better: every throughput measure, and the input rate the latency
# run's producer achieved. Every other measure is latency seconds, better smaller.
RATES = ("throughput ", "latency achieved_rate")


class BenchError(Exception):
    """A revision that cannot be measured: names the revision and what failed."""


def set_medians(report: Mapping[str, Any]) -> dict[str, float]:
    """{"throughput silver": median, "latency p99": median, ...} of one bench_streaming --json report."""
    # A measure is {"runs": [...], "median": x}; a mode also holds settings (latency's "rate": a number).
    found = {
        f"{mode} {measure}": float(values["median"])
        for mode in ("throughput", "latency")
        for measure, values in report.get(mode, {}).items()
        if isinstance(values, Mapping) and "median" in values
    }
    if not found:
        raise BenchError("the report holds neither throughput nor latency figures")
    return found


def summarise(before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per measure both revisions report: the median of each revision's set medians, their sets, and
    after / before. A measure only one revision reports is left out (an older benchmark may lack it)."""
    if not before or not after:
        raise BenchError("no sets to compare: each revision needs at least one")
    sets = {"before": [set_medians(r) for r in before], "after": [set_medians(r) for r in after]}
    common = set.intersection(*(set(s) for rev in sets.values() for s in rev))
    summary: dict[str, dict[str, Any]] = {}
    for measure in sorted(common):
        runs = {rev: [s[measure] for s in rev_sets] for rev, rev_sets in sets.items()}
        medians = {rev: statistics.median(v) for rev, v in runs.items()}
        summary[measure] = {
            "before": medians["before"],
            "after": medians["after"],
            "ratio": medians["after"] / medians["before"] if medians["before"] else float("nan"),
            "higher_is_better": measure.startswith(RATES),
            "sets": runs,
        }
    return summary


def resolve(rev: str) -> str:
    """The commit a revision names, or BenchError naming it."""
    out = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise BenchError(f"{rev!r} names no commit in {ROOT}")
    return out.stdout.strip()


def run_set(worktree: Path, bench_args: Sequence[str], out: Path) -> dict[str, Any]:
    """One bench_streaming run of the revision checked out in `worktree`; its --json report."""
    script = worktree / BENCHMARK
    if not script.exists():
        raise BenchError(f"{worktree.name}: the revision has no {BENCHMARK}")
    workdir = out.with_suffix(".work")
    cmd = [sys.executable, str(script), *bench_args, "--workdir", str(workdir), "--json", str(out)]
    done = subprocess.run(cmd, cwd=worktree, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise BenchError(f"{worktree.name}: {BENCHMARK} exited {done.returncode}:\n{tail}")
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def print_summary(summary: Mapping[str, Mapping[str, Any]], before: str, after: str) -> None:
    print(f"\n=== {after} against {before}: medians of the set medians ===")
    for measure, s in summary.items():
        unit = "events/s" if s["higher_is_better"] else "s"
        better = "better" if (s["ratio"] > 1) == s["higher_is_better"] else "worse"
        sets = {rev: [round(x, 2) for x in v] for rev, v in s["sets"].items()}
        print(
            f"{measure:<24} before {s['before']:>12,.2f}  after {s['after']:>12,.2f} {unit:<8}"
            f"  after/before {s['ratio']:.2f} ({better})   sets: {sets}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    split = args_in.index("--") if "--" in args_in else len(args_in)
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--before", required=True, help="the baseline revision (any git revision)")
    p.add_argument("--after", default="HEAD", help="the revision measured against it (default HEAD)")
    p.add_argument("--sets", type=int, default=3, help="benchmark processes per revision, alternating")
    p.add_argument("--json", help="also write the summary and every set's report here (the reports as they come)")
    args = p.parse_args(args_in[:split])
    bench_args = args_in[split + 1 :] or list(DEFAULT_BENCH_ARGS)
    if args.sets < 1:
        p.error("--sets: at least 1")
    try:
        commits = {"before": resolve(args.before), "after": resolve(args.after)}
        reports: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
        with tempfile.TemporaryDirectory(prefix="bench-revisions-") as tmp:
            trees = {rev: Path(tmp) / rev for rev in commits}
            try:
                for rev, commit in commits.items():
                    subprocess.run(
                        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(trees[rev]), commit],
                        check=True,
                        capture_output=True,
                    )
                for n in range(args.sets):
                    for rev in commits:
                        print(f"[set {n + 1}/{args.sets}] {rev} ({commits[rev][:10]})", flush=True)
                        reports[rev].append(run_set(trees[rev], bench_args, Path(tmp) / f"{rev}-{n}.json"))
                        if args.json:  # every set's report as it comes: a later failure loses no measurement
                            write_json(args.json, {**header(args, commits, bench_args), "reports": reports})
            finally:
                for tree in trees.values():
                    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
        summary = summarise(reports["before"], reports["after"])
    except BenchError as e:
        print(f"bench_revisions: {e}", file=sys.stderr)
        return 2
    print_summary(summary, f"{args.before} ({commits['before'][:10]})", f"{args.after} ({commits['after'][:10]})")
    if args.json:
        write_json(args.json, {**header(args, commits, bench_args), "measures": summary, "reports": reports})
    return 0


def header(args: argparse.Namespace, commits: Mapping[str, str], bench_args: Sequence[str]) -> dict[str, Any]:
    return {"before": args.before, "after": args.after, "commits": dict(commits), "bench_args": list(bench_args)}


def write_json(path: str, data: Mapping[str, Any]) -> None:
    Path(path).write_text(json.dumps(data, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
