"""First copy wins inside a micro-batch (issue 32, class 4): of the copies of one event id that silver reads in
one micro-batch, the silver row is the copy first by dedupe.ARRIVAL_ORDER, whatever the files' sizes, their
listing order, the rows' order in a file and the shuffle partition count.

Spark packs the largest split first into a task and fetches shuffle blocks in completion order, so before
the fix the copy in the larger file won (ids "a", "c" and "e" below failed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F  # noqa: N812 (PySpark convention)

from streaming_jobs.config import ValidationRules, parse_interval
from streaming_jobs.generator.events import trade_payload
from streaming_jobs.io.files import ParquetSource
from streaming_jobs.io.streams import Trigger
from streaming_jobs.jobs.silver import SilverBatchWriter, start_silver
from streaming_jobs.local_pipeline import LocalPaths
from streaming_jobs.schemas import BRONZE_SCHEMA
from streaming_jobs.transforms import dedupe
from streaming_jobs.transforms.dedupe import PROBE, first_copies
from streaming_jobs.transforms.parse import parse_events
from streaming_jobs.transforms.validate import ACCEPTED, classify_events
from tests.streaming.bronze_files import BronzeRow, trade, write_bronze_files
from tests.streaming.conftest import shuffle_partitions

pytestmark = pytest.mark.spark

T0 = datetime(2026, 3, 2, 14, 30, 0, tzinfo=UTC)
RULES = ValidationRules(symbols=("AAPL",), watermark=parse_interval("30 seconds", "w"))
EARLY, LATE = T0 + timedelta(seconds=1), T0 + timedelta(seconds=6)  # two bronze ingestions
FILLERS = 500  # rows in each large file: ~100 times the small files (by rows and by bytes)
PARTITIONS = 4


def _copy(event_id: str, price: str, ingested: datetime, partition: int = 0, offset: int = 0) -> BronzeRow:
    return BronzeRow(trade_payload(trade(event_id, T0, price)), ingested, partition, offset)


def _fillers(tag: str, ingested: datetime) -> list[BronzeRow]:
    return [_copy(f"{tag}-{i:04d}", "100.00", ingested, 0, 10_000 + i) for i in range(FILLERS)]


# (event id, price of the copy that must be kept): the price tells the copies apart.
EXPECTED = {
    "a": "1.01",  # earlier ingestion in the small file, later in a large one
    "b": "1.02",  # earlier ingestion in a large file, later in the small one
    "c": "1.03",  # one ingestion: Kafka partition 1 (small file) before partition 3 (large file)
    "d": "1.04",  # one ingestion, one partition: offset 50 (large file) before offset 70 (small file)
    "e": "1.05",  # two copies in one file: offset 3 first, although it is the file's later row
    "f": "2.06",  # the earlier copy is rejected (price 0): the first *accepted* copy is kept
}

# Listed in this order (modification times), all read in one micro-batch.
FILES = [
    [  # small, early ingestion
        _copy("a", "1.01", EARLY),
        _copy("c", "1.03", EARLY, partition=1, offset=900),
        _copy("d", "2.04", EARLY, partition=2, offset=70),
        _copy("f", "0", EARLY),
    ],
    [*_fillers("late", LATE), _copy("a", "2.01", LATE), _copy("f", "2.06", LATE)],  # large, late
    [  # large, early
        *_fillers("early", EARLY),
        _copy("b", "1.02", EARLY),
        _copy("c", "2.03", EARLY, partition=3, offset=10),
        _copy("d", "1.04", EARLY, partition=2, offset=50),
    ],
    [  # small, late
        _copy("b", "2.02", LATE),
        _copy("e", "2.05", LATE, offset=9),
        _copy("e", "1.05", LATE, offset=3),
    ],
]


def test_the_first_copy_by_arrival_is_kept_whatever_the_file_order_and_sizes(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bronze = write_bronze_files(spark, tmp_path, FILES)
    paths = LocalPaths(tmp_path / "pipeline")
    paths.create()
    with shuffle_partitions(spark, PARTITIONS):
        writer = SilverBatchWriter(paths.silver_table, paths.quarantine_table, RULES)
        source = ParquetSource(str(bronze), BRONZE_SCHEMA).read(spark)
        silver = start_silver(source, RULES, writer, str(paths.checkpoints), Trigger(available_now=True))
        silver.awaitTermination()
        assert silver.exception() is None
    progress = [p for p in silver.recentProgress if p.numInputRows]
    assert len(progress) == 1, "every copy is read in one micro-batch"
    assert progress[0].stateOperators[0].numShufflePartitions == PARTITIONS

    rows = paths.silver_table.read(spark).collect()
    ids = sorted(r.event_id for r in rows)
    assert ids == sorted([*EXPECTED, *(f"{t}-{i:04d}" for t in ("early", "late") for i in range(FILLERS))])
    kept = {r.event_id: str(r.price) for r in rows if r.event_id in EXPECTED}
    assert kept == {k: f"{v}00" for k, v in EXPECTED.items()}
    lineage = {r.event_id: (r.ingest_time, r.partition, r.offset) for r in rows if r.event_id in EXPECTED}
    naive = EARLY.replace(tzinfo=None)
    assert lineage["a"] == (naive, 0, 0) and lineage["c"] == (naive, 1, 900) and lineage["e"][2] == 3
    (rejected,) = paths.quarantine_table.read(spark).collect()
    assert (rejected.event_id, rejected.reason) == ("f", "OUT_OF_RANGE:price")

    # The cost side: the records are computed once for both branches of the stream (one shuffle, reused).
    silver.explain()
    plan = capsys.readouterr().out
    shuffles = [line.lstrip(" :+-").split(" ", 1)[0] for line in plan.splitlines() if "Exchange " in line]
    assert shuffles == ["Exchange", "ReusedExchange"], plan


def test_ids_sharing_a_hash_keep_the_same_first_copies(spark: SparkSession, monkeypatch: pytest.MonkeyPatch) -> None:
    """first_copies counts copies by a 64-bit hash of the id: ids whose hashes collide must still each keep
    their own first copy, and an id seen in an earlier batch (no probe) none. Every id colliding (a
    constant hash) gives the same rows as the real hash, on the copies of FILES in one batch."""
    fillers = ('"event_id":"early-', '"event_id":"late-')
    # The copies of EXPECTED's ids and ten single-copy fillers.
    rows = [r for f in FILES for r in f if not any(t in r.payload for t in fillers) or '"late-000' in r.payload]
    data = [
        (r.payload, None, "trades", r.partition, i if r.offset is None else r.offset, None, None, r.ingest_time)
        for i, r in enumerate(rows)
    ]
    classified = classify_events(parse_events(spark.createDataFrame(data, BRONZE_SCHEMA)), RULES)
    # A dedupe_stream batch by hand (its operator is streaming-only): every record, and a probe per new id.
    keyed = classified.select(
        "*", F.when(F.col(ACCEPTED), F.col("event_id")).alias(dedupe._KEY), F.col("ingest_time").alias(dedupe._TIME)
    )
    old = {"b"}  # an id already in the de-duplication state: the batch holds its copies but no probe
    probes = keyed.filter(F.col(ACCEPTED) & ~F.col("event_id").isin(*old)).dropDuplicates([dedupe._KEY])
    batch = keyed.withColumn(PROBE, F.lit(False)).unionByName(probes.withColumn(PROBE, F.lit(True))).localCheckpoint()

    def kept() -> list[tuple[str, str]]:
        return sorted((r.event_id, str(r.price)) for r in first_copies(batch).collect())

    real = kept()
    monkeypatch.setattr(dedupe, "id_hash", lambda event_id: F.lit(0).cast("long"))
    assert kept() == real
    expected = {k: f"{v}00" for k, v in EXPECTED.items() if k not in old}
    assert {k: v for k, v in real if k in EXPECTED} == expected
    assert len(real) == len({k for k, _ in real}) == len(expected) + 10
