"""Bronze tables written by hand: parquet files whose ingestion times, lineage and listing order a test chooses.

The file stream source reads a directory without a sink log in modification-time order (Spark's
FileStreamSource.fetchAllFiles sorts by it), so each file gets the modification time of its position.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql.types import IntegerType, StructField, StructType

from streaming_jobs.generator.events import Trade, trade_payload
from streaming_jobs.schemas import BRONZE_SCHEMA

FILE_COLUMN = "_bronze_file"  # which file a row goes to; a directory name, not a column of the files


def trade(event_id: str, event_time: datetime, price: str = "100.25", symbol: str = "AAPL", qty: int = 10) -> Trade:
    return Trade(event_id, symbol, "BUY", Decimal(price), qty, event_time, "p", 1)


@dataclass(frozen=True)
class BronzeRow:
    payload: str
    ingest_time: datetime
    partition: int | None = 0
    offset: int | None = None  # None: the row's position in its file
    kafka_timestamp: datetime | None = None
    source_file: str | None = None


def write_bronze_files(spark: SparkSession, root: Path, files: list[list[BronzeRow]]) -> Path:
    """One parquet file per list, listed by the file source in the lists' order; returns the directory.

    All files come from one Spark write (a job per file cost ~0.4 s each): the rows carry their file's
    number, one partition holds them in order, and `partitionBy` writes each number's rows, in that
    order, to a directory of its own, whose one part file is then moved into place.
    """
    source = root / "bronze"
    source.mkdir(parents=True)
    data = [
        (
            r.payload,
            None,
            "trades",
            r.partition,
            n if r.offset is None else r.offset,
            None if r.kafka_timestamp is None else r.kafka_timestamp.replace(tzinfo=None),
            r.source_file,
            r.ingest_time.replace(tzinfo=None),  # the session time zone is UTC
            i,
        )
        for i, rows in enumerate(files)
        for n, r in enumerate(rows)
    ]
    schema = StructType([*BRONZE_SCHEMA.fields, StructField(FILE_COLUMN, IntegerType(), False)])
    staging = root / "staging"
    spark.createDataFrame(spark.sparkContext.parallelize(data, 1), schema).write.partitionBy(FILE_COLUMN).parquet(
        str(staging)
    )
    for i in range(len(files)):
        (part,) = (staging / f"{FILE_COLUMN}={i}").glob("part-*.parquet")
        target = source / f"bronze-{i:03d}.parquet"
        shutil.move(str(part), target)
        os.utime(target, (1_000_000 + i, 1_000_000 + i))
    shutil.rmtree(staging)
    return source


def payload_rows(trades: list[tuple[Trade, datetime]]) -> list[BronzeRow]:
    """(trade, ingestion time) pairs as bronze rows."""
    return [BronzeRow(trade_payload(t), ingested) for t, ingested in trades]
