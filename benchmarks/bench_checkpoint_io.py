"""Per-micro-batch checkpoint and file-sink cost on the local file system, with Spark's defaults and local_session's.

    .venv/bin/python benchmarks/bench_checkpoint_io.py [--batches 60] [--runs 3]

Without Hadoop's native library (pip's pyspark ships none) the local file
system runs a `chmod` process for every file it creates, and the FileContext
API that Spark's checkpoint manager prefers runs `readlink` on every rename.
Each variant runs, in its own JVM (Hadoop caches file systems per JVM), a
trivial stream (200 rows per micro-batch -> parquet file sink) back to back, and reports the
medians over its micro-batches of the offset-log write (walCommit), the
commit-log write (commitOffsets) and the sink's write (addBatch), and the
processes the JVM started per batch. Prints the ratio of the two.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pyspark.sql.streaming import StreamingQuery  # noqa: E402

from streaming_jobs.local_pipeline import LOCAL_FILESYSTEM_CONF, local_session  # noqa: E402

_MANAGER_KEY = "spark.sql.streaming.checkpointFileManagerClass"
# Spark's default manager, FileContext-based, lives beside the FileSystem-based one local_session uses, in the
# package of the running Spark line (streaming_jobs.runtime.local_only_conf: it moved in 4.1).
SPARK_DEFAULTS = {
    _MANAGER_KEY: LOCAL_FILESYSTEM_CONF[_MANAGER_KEY].replace(".FileSystemBased", ".FileContextBased"),
    "spark.hadoop.fs.file.impl": "org.apache.hadoop.fs.LocalFileSystem",
    "spark.hadoop.fs.AbstractFileSystem.file.impl": "org.apache.hadoop.fs.local.LocalFs",
}
VARIANTS = {"Spark defaults": SPARK_DEFAULTS, "local_session": LOCAL_FILESYSTEM_CONF}
MEASURES = ("walCommit", "commitOffsets", "addBatch")


def processes_started() -> int:
    """Processes and threads created on this machine since boot (/proc/stat)."""
    with open("/proc/stat") as stat:
        return next(int(line.split()[1]) for line in stat if line.startswith("processes"))


def last_batch(query: StreamingQuery) -> int:
    """The id of the query's last completed micro-batch, -1 before the first."""
    progress = query.lastProgress
    return -1 if progress is None else int(progress.batchId)


def child(variant: str, batches: int, warmup: int) -> dict[str, float]:
    assert set(VARIANTS[variant]) == set(LOCAL_FILESYSTEM_CONF)
    spark = local_session("rta-bench-checkpoint", state_store="hdfs", conf=dict(VARIANTS[variant]))
    work = Path(tempfile.mkdtemp(prefix="rta-checkpoint-"))
    try:
        stream = spark.readStream.format("rate-micro-batch").option("rowsPerBatch", 200).load()
        query = (
            stream.writeStream.format("parquet")
            .option("path", str(work / "table"))
            .option("checkpointLocation", str(work / "checkpoint"))
            .start()
        )
        while last_batch(query) < warmup:
            time.sleep(0.05)
        first, forks_before = last_batch(query), processes_started()
        while last_batch(query) < first + batches:
            time.sleep(0.05)
        forks = processes_started() - forks_before
        done = last_batch(query) - first
        query.stop()
        progress = [p for p in query.recentProgress if p["batchId"] > first]
        result = {m: statistics.median(p["durationMs"].get(m, 0) for p in progress) for m in MEASURES}
        # Threads count too (/proc/stat): an upper bound on the processes per batch.
        result["processes per batch"] = forks / done
        return result
    finally:
        spark.stop()
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batches", type=int, default=60, help="measured micro-batches per run")
    p.add_argument("--warmup", type=int, default=20, help="micro-batches before measuring")
    p.add_argument("--runs", type=int, default=3, help="JVMs per variant")
    p.add_argument("--child", choices=tuple(VARIANTS), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.batches, args.warmup)))
        return 0

    medians: dict[str, dict[str, float]] = {}
    for variant in VARIANTS:
        runs = []
        for _ in range(args.runs):
            command = [sys.executable, __file__, "--child", variant, "--batches", str(args.batches)]
            out = subprocess.run(
                [*command, "--warmup", str(args.warmup)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            runs.append(json.loads(out.strip().splitlines()[-1]))
        medians[variant] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        unit = {m: " ms" for m in MEASURES}
        figures = ", ".join(f"{k} {v:,.1f}{unit.get(k, '')}" for k, v in medians[variant].items())
        print(f"{variant:15s} median of {args.runs} runs: {figures}", flush=True)
    slow, fast = (medians[v] for v in VARIANTS)
    for m in MEASURES:
        print(f"{m}: {slow[m] / max(fast[m], 0.1):.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
