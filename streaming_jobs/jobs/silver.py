"""Silver: bronze -> parsed, validated, de-duplicated trades, and a quarantine row for every rejected record."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

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
from streaming_jobs.io.streams import StreamSink, Trigger, checkpoint_for
from streaming_jobs.jobs.common import (
    JobArgumentParser,
    add_trigger_args,
    configure,
    run_until_terminated,
    trigger_from,
)
from streaming_jobs.manifest import JOBS
from streaming_jobs.transforms.dedupe import drop_duplicate_events
from streaming_jobs.transforms.parse import parse_events
from streaming_jobs.transforms.validate import quarantine_events, valid_events

SILVER_QUERY, QUARANTINE_QUERY = JOBS["silver"].queries


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
    )


def silver_streams(bronze: DataFrame, rules: ValidationRules) -> tuple[DataFrame, DataFrame]:
    """(silver trades, quarantine) from one bronze stream; both parse the payload with the same schema."""
    parsed = parse_events(bronze)
    trades = drop_duplicate_events(valid_events(parsed, rules), rules.state_watermark)
    return trades, quarantine_events(parsed, rules)


def start_silver(
    bronze: DataFrame,
    rules: ValidationRules,
    trades_sink: StreamSink,
    quarantine_sink: StreamSink,
    checkpoint_root: str,
    trigger: Trigger,
) -> list[StreamingQuery]:
    trades, quarantine = silver_streams(bronze, rules)
    return [
        trades_sink.start(trades, SILVER_QUERY, checkpoint_for(checkpoint_root, SILVER_QUERY), trigger),
        quarantine_sink.start(quarantine, QUARANTINE_QUERY, checkpoint_for(checkpoint_root, QUARANTINE_QUERY), trigger),
    ]


def main(argv: Sequence[str]) -> None:
    cfg = parse_args(argv)
    from streaming_jobs.io.delta import (
        BRONZE_TABLE,
        QUARANTINE_TABLE,
        SILVER_TABLE,
        DeltaTableSink,
        DeltaTableSource,
        table_name,
    )

    source = DeltaTableSource(table_name(cfg.catalog, cfg.bronze_schema, BRONZE_TABLE), cfg.max_files_per_trigger)
    spark = configure(SparkSession.builder.getOrCreate())
    queries = start_silver(
        source.read(spark),
        cfg.rules,
        DeltaTableSink(table_name(cfg.catalog, cfg.silver_schema, SILVER_TABLE)),
        DeltaTableSink(table_name(cfg.catalog, cfg.silver_schema, QUARANTINE_TABLE)),
        cfg.checkpoint_root,
        cfg.trigger,
    )
    run_until_terminated(spark, queries)
