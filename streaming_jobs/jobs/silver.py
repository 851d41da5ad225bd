"""Silver: bronze -> parsed, validated, de-duplicated trades, and a quarantine row for every rejected record.

One streaming query: each record is parsed and validated once, the query's state tells which accepted
event ids are new, and foreachBatch keeps each new id's first copy by arrival (transforms/dedupe.py)
and appends every micro-batch to both tables, each append idempotent per (query, batch).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import StreamingQuery

from streaming_jobs.config import (
    DEFAULT_SIDES,
    ConfigError,
    ValidationRules,
    parse_interval,
    parse_positive_decimal,
    parse_sides,
    parse_symbols,
)
from streaming_jobs.io.streams import BatchAppender, Trigger, checkpoint_for, materialised
from streaming_jobs.jobs.common import (
    JobArgumentParser,
    add_trigger_args,
    configure,
    metrics_publisher,
    run_until_terminated,
    trigger_from,
)
from streaming_jobs.manifest import JOBS
from streaming_jobs.transforms.dedupe import batch_records, dedupe_stream, first_copies
from streaming_jobs.transforms.parse import parse_events
from streaming_jobs.transforms.validate import classify_events, quarantine_rows, trade_rows

(QUERY,) = JOBS["silver"].queries


def build_parser() -> JobArgumentParser:
    p = JobArgumentParser(prog="silver_cleanse", description=JOBS["silver"].description)
    p.add_argument("--catalog", required=True)
    p.add_argument("--bronze-schema", required=True)
    p.add_argument("--silver-schema", required=True)
    p.add_argument("--checkpoint-root", required=True)
    p.add_argument("--symbols", required=True, help="known symbols, comma-separated")
    p.add_argument("--watermark", required=True, help="how late an event may arrive and still count")
    p.add_argument("--sides", default=",".join(DEFAULT_SIDES), help="known transaction types")
    p.add_argument("--max-future-skew", default="1 minute", help="how far ahead of ingestion an event time may be")
    p.add_argument("--max-price", default="1000000")
    p.add_argument("--max-quantity", default="10000000")
    p.add_argument("--max-files-per-trigger", type=int, help="cap on bronze files per micro-batch")
    p.add_argument("--metrics-schema", help="schema of the pipeline_metrics table (the stack passes gold's)")
    add_trigger_args(p)
    return p


@dataclass(frozen=True)
class SilverConfig:
    catalog: str
    bronze_schema: str
    silver_schema: str
    checkpoint_root: str
    rules: ValidationRules
    trigger: Trigger
    max_files_per_trigger: int | None
    metrics_schema: str | None = None


def rules_from(a: argparse.Namespace) -> ValidationRules:
    max_qty = parse_positive_decimal(a.max_quantity, "--max-quantity")
    if max_qty != int(max_qty):
        raise ConfigError("--max-quantity: must be a whole number")
    return ValidationRules(
        symbols=parse_symbols(a.symbols),
        watermark=parse_interval(a.watermark, "--watermark"),
        sides=parse_sides(a.sides),
        max_price=parse_positive_decimal(a.max_price, "--max-price"),
        max_quantity=int(max_qty),
        max_future_skew=parse_interval(a.max_future_skew, "--max-future-skew"),
    )


def parse_args(argv: Sequence[str]) -> SilverConfig:
    a = build_parser().parse_args(argv)
    return SilverConfig(
        a.catalog,
        a.bronze_schema,
        a.silver_schema,
        a.checkpoint_root,
        rules_from(a),
        trigger_from(a),
        a.max_files_per_trigger,
        a.metrics_schema,
    )


def silver_records(bronze: DataFrame, rules: ValidationRules) -> DataFrame:
    """Every bronze record once, classified (validate.classify_events), and the accepted event ids new to the
    de-duplication state (dedupe.dedupe_stream); dedupe.first_copies picks their rows in foreachBatch."""
    return dedupe_stream(classify_events(parse_events(bronze), rules), rules.dedupe_delay)


def one_file(trades: DataFrame) -> DataFrame:
    """A micro-batch's trades as one partition, so the append writes them as one file.

    Gold's watermark (ValidationRules.state_watermark) drops no accepted event only if gold never reads a
    later bronze ingestion before an earlier one. Silver reads bronze in ingestion order, so its batches
    follow that order, but one batch mixes several ingestions in every part file. Both gold sources admit
    whole files in commit order and cut a trigger between any two files: Spark's file source sorts by
    modification time and takes the first maxFilesPerTrigger files (FileStreamSource.fetchMaxOffset), and
    Delta's source admits file by file, always at least one, with a default cap of 1000 files even when
    none is set (DeltaSource.AdmissionLimits, DeltaOptions.MAX_FILES_PER_TRIGGER_OPTION_DEFAULT). With one
    file per silver batch, no cap and no partition count can split a batch across gold triggers (issue 32,
    class 5: with 200 shuffle partitions a split batch dropped accepted events). The cost is one task
    writing the batch's trades (its rows are already computed: io.streams.materialised).
    """
    return trades.coalesce(1)


@dataclass
class SilverBatchWriter:
    """The foreachBatch function: the first copy of each new accepted event id to the trades table (one
    file: one_file; dedupe.first_copies), the rejected records to quarantine, from one computation of the
    batch (io.streams.materialised)."""

    trades: BatchAppender
    quarantine: BatchAppender
    rules: ValidationRules
    # Test hook: raise after the trades append, before quarantine (a crash between the two commits).
    fail_after_trades: Callable[[int], bool] | None = None
    skipped: int = field(default=0)

    def __call__(self, records: DataFrame, batch_id: int) -> None:
        # The streaming query's id: stable across restarts from the same checkpoint.
        writer_id = records.sparkSession.sparkContext.getLocalProperty("sql.streaming.queryId") or QUERY
        with materialised(records) as batch:
            if not self.trades.append(one_file(trade_rows(first_copies(batch))), batch_id, writer_id):
                self.skipped += 1
            if self.fail_after_trades is not None and self.fail_after_trades(batch_id):
                raise RuntimeError(f"injected failure after appending silver batch {batch_id} to trades")
            if not self.quarantine.append(quarantine_rows(batch_records(batch), self.rules), batch_id, writer_id):
                self.skipped += 1


def start_silver(
    bronze: DataFrame,
    rules: ValidationRules,
    writer: SilverBatchWriter,
    checkpoint_root: str,
    trigger: Trigger,
) -> StreamingQuery:
    stream = (
        silver_records(bronze, rules)
        .writeStream.queryName(QUERY)
        .outputMode("append")
        .option("checkpointLocation", checkpoint_for(checkpoint_root, QUERY))
        .foreachBatch(writer)
    )
    return trigger.apply(stream).start()


def main(argv: Sequence[str]) -> None:
    cfg = parse_args(argv)
    from streaming_jobs.io.delta import (
        BRONZE_TABLE,
        QUARANTINE_TABLE,
        SILVER_TABLE,
        DeltaBatchAppend,
        DeltaTableSource,
        table_name,
    )

    source = DeltaTableSource(table_name(cfg.catalog, cfg.bronze_schema, BRONZE_TABLE), cfg.max_files_per_trigger)
    spark = configure(SparkSession.builder.getOrCreate())
    writer = SilverBatchWriter(
        DeltaBatchAppend(table_name(cfg.catalog, cfg.silver_schema, SILVER_TABLE)),
        DeltaBatchAppend(table_name(cfg.catalog, cfg.silver_schema, QUARANTINE_TABLE)),
        cfg.rules,
    )
    publisher = metrics_publisher(spark, cfg.catalog, cfg.metrics_schema, "silver")
    query = start_silver(source.read(spark), cfg.rules, writer, cfg.checkpoint_root, cfg.trigger)
    run_until_terminated(spark, [query], publisher)
