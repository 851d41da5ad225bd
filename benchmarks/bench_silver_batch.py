"""Silver's micro-batch computed once for its two tables: a local checkpoint against the columnar cache.

    .venv/bin/python benchmarks/bench_silver_batch.py                 # 2 M events, 3 runs each
    .venv/bin/python benchmarks/bench_silver_batch.py --events 500000 --runs 5

Both variants are the whole silver job (parse, validate, de-duplicate, trades
and quarantine appends) as a stream over the same bronze table, from fresh
checkpoints, in the throughput benchmark's micro-batch size; interleaved after
one uncounted round:
- `persist`: the batch persisted (MEMORY_AND_DISK, uncompressed columnar cache)
  and unpersisted after both appends, the previous code.
- `local checkpoint` (io.streams.materialised, what silver runs): Spark's
  binary rows kept as they are, released after both appends.
Reports medians, events/s and the ratio; checks both wrote the same rows.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "benchmarks"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from bench_streaming import bronze_backlog, release_state  # noqa: E402
from compare import interleaved, report  # noqa: E402
from pyspark import StorageLevel  # noqa: E402
from pyspark.sql import DataFrame, SparkSession  # noqa: E402

from streaming_jobs.io.files import BatchDirTable, ParquetSource  # noqa: E402
from streaming_jobs.jobs.silver import SilverBatchWriter, silver_records  # noqa: E402
from streaming_jobs.local_pipeline import PipelineSettings, local_session  # noqa: E402
from streaming_jobs.schemas import BRONZE_SCHEMA, QUARANTINE_SCHEMA, SILVER_SCHEMA  # noqa: E402
from streaming_jobs.transforms.dedupe import batch_records, first_copies  # noqa: E402
from streaming_jobs.transforms.validate import quarantine_rows, trade_rows  # noqa: E402


class PersistingSilverBatchWriter(SilverBatchWriter):
    """The previous foreachBatch: the batch in Spark's columnar cache for both appends."""

    def __call__(self, records: DataFrame, batch_id: int) -> None:
        records.persist(StorageLevel.MEMORY_AND_DISK)
        try:
            self.trades.append(trade_rows(first_copies(records)), batch_id, "bench")
            self.quarantine.append(quarantine_rows(batch_records(records), self.rules), batch_id, "bench")
        finally:
            records.unpersist()


def run_silver(
    spark: SparkSession, writer_class: type[SilverBatchWriter], st: PipelineSettings, bronze: str, out: Path
) -> None:
    release_state(spark)
    shutil.rmtree(out, ignore_errors=True)
    writer = writer_class(
        BatchDirTable(str(out / "trades"), SILVER_SCHEMA),
        BatchDirTable(str(out / "quarantine"), QUARANTINE_SCHEMA),
        st.rules,
    )
    source = ParquetSource(bronze, BRONZE_SCHEMA, st.max_bronze_files_per_trigger).read(spark)
    q = (
        silver_records(source, st.rules)
        .writeStream.foreachBatch(writer)
        .option("checkpointLocation", str(out / "checkpoint"))
        .trigger(availableNow=True)
        .start()
    )
    q.awaitTermination()
    if q.exception() is not None:
        raise RuntimeError(f"silver failed: {q.exception()}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=2_000_000)
    p.add_argument("--events-per-file", type=int, default=50_000)
    p.add_argument("--files-per-batch", type=int, default=8)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--workdir", default="out/bench-silver-batch")
    args = p.parse_args(argv)

    # The persist variant ran with an uncompressed cache (the jobs' setting then); nothing else caches.
    spark = local_session(
        "rta-bench-silver-batch",
        state_store="hdfs",
        driver_memory="6g",
        conf={"spark.sql.inMemoryColumnarStorage.compressed": "false"},
    )
    paths, st = bronze_backlog(spark, args.workdir, args.events, args.events_per_file, args.files_per_batch)
    writers: dict[str, type[SilverBatchWriter]] = {
        "persist": PersistingSilverBatchWriter,
        "local checkpoint": SilverBatchWriter,
    }
    outputs = {name: paths.root / name.replace(" ", "_") for name in writers}
    seconds = interleaved(
        {name: partial(run_silver, spark, w, st, str(paths.bronze), outputs[name]) for name, w in writers.items()},
        args.runs,
    )
    for table in ("trades", "quarantine"):
        counts = {name: spark.read.parquet(str(out / table / "batch-*")).count() for name, out in outputs.items()}
        if len(set(counts.values())) != 1:
            raise SystemExit(f"the variants wrote different {table} rows: {counts}")
        print(f"{table}: {next(iter(counts.values())):,} rows from each variant")
    report(seconds, "persist", "local checkpoint", per=(args.events, "events"))
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
