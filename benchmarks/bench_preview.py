"""Benchmark: the offline preview of a stack, as a whole process (imports included).

    python benchmarks/bench_preview.py [--stack prod] [--runs 5]

Each run is a fresh `python -m offline.preview --stack <stack> --quiet` (so
interpreter start, SDK imports and the policy pack all count); wall time comes
from the parent, peak memory (max RSS) from the child's rusage. A baseline run
of the same process with the policy pack skipped is measured alongside, so the
pack's share is a ratio from the same machine and moment. Prints medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(stack: str, runs: int, extra: list[str]) -> tuple[float, float, int]:
    times, peaks, count = [], [], 0
    for _ in range(runs):
        # A fresh child per run; wait4 gives that child's own peak RSS.
        cmd = [sys.executable, "-m", "offline.preview", "--stack", stack, "--quiet", "--json", os.devnull, *extra]
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        out = proc.stdout.read() if proc.stdout else ""
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):
            err = proc.stderr.read() if proc.stderr else ""
            raise SystemExit(f"preview failed ({code}):\n{out}\n{err}")
        times.append(elapsed)
        peaks.append(usage.ru_maxrss / 1024)
        count = next((int(line.split()[0]) for line in out.splitlines() if "resources to create" in line), 0)
    return statistics.median(times), statistics.median(peaks), count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    measure(args.stack, 1, [])  # warm the page cache and .pyc files
    full_t, full_mem, count = measure(args.stack, args.runs, [])
    base_t, base_mem, _ = measure(args.stack, args.runs, ["--no-policies"])
    print(f"offline preview of {args.stack!r}: {count} resources, {args.runs} runs each, medians")
    print(f"  with policy pack    : {full_t:6.2f} s   peak RSS {full_mem:6.0f} MiB")
    print(f"  without policy pack : {base_t:6.2f} s   peak RSS {base_mem:6.0f} MiB")
    print(f"  policy pack share   : {full_t / base_t:6.2f}x wall time of the preview without it")
    target_ok = full_t < 4.0 and full_mem < 600
    print(f"  target (< 4 s, < 600 MiB): {'met' if target_ok else 'MISSED'}")


if __name__ == "__main__":
    main()
