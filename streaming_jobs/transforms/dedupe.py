"""De-duplicate accepted events by id: the first copy by arrival wins, across micro-batches and inside one.

Two halves, because a stream cannot choose a row per key by an order (Spark refuses a sort ahead of
`dropDuplicatesWithinWatermark` in a stream) and the de-duplication operator keeps whichever copy of an id
reaches it first inside a micro-batch, which is the order Spark packs files into tasks (largest split first)
and fetches shuffle blocks (completion order), not arrival (issue 32, class 4):

* `dedupe_stream` (in the stream): every classified record once, plus one *probe* row per accepted id that
  Spark's state store has not seen within the horizon. The state decides which ids are new; which copy
  the silver row is does not depend on it.
* `first_copies` (in foreachBatch, on the materialised micro-batch): of each new id, the accepted copy
  that arrived first by ARRIVAL_ORDER, whatever the order of files, splits and shuffle partitions.

Both halves read one computation of the records: the two branches of the stream share one shuffle by key
(the parse and validation run once; Spark reuses the exchange, which tests/streaming/test_first_copy.py
checks on the plan). Should a runtime not reuse it, the result is the same and the records are computed
twice.

Spark behaviour relied on, from Apache Spark's source (sql/core, sql/catalyst; 4.0): a Sort in a streaming
plan outside complete-mode aggregation is refused (UnsupportedOperationChecker); file splits are packed
into tasks largest first (FileSourceScanExec: `sortBy(_.length)` reversed); a stateful operator's input
is its shuffle by key, read in block-fetch order (ShuffleBlockFetcherIterator: remote requests shuffled);
exchanges with the same canonical plan run once (reuse/ReuseExchangeAndSubquery, part of the preparation
rules streaming's IncrementalExecution applies).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F  # noqa: N812 (PySpark convention)

from streaming_jobs.config import Interval
from streaming_jobs.schemas import SILVER_SCHEMA
from streaming_jobs.transforms.validate import ACCEPTED

_KEY, _TIME = "_dedupe_key", "_dedupe_time"
PROBE = "_dedupe_probe"
_RANK, _NEW, _COPIES, _HASH = "_dedupe_rank", "_dedupe_new", "_dedupe_copies", "_dedupe_hash"

# "First" among the copies of one event id: the earliest bronze ingestion (ingest_time, the bronze
# micro-batch that stored the copy), then the copy's place in its source: Kafka topic, partition, offset
# (unique per record; Kafka orders a partition, not partitions among themselves), or locally the landing
# file's name (the generator names files by send time). Copies tied on all of these (two copies in one
# landing file) are ordered by their values, so even then the kept row does not depend on Spark.
ARRIVAL_ORDER = ("ingest_time", "topic", "partition", "offset", "source_file")
_VALUE_ORDER = tuple(n for n in SILVER_SCHEMA.fieldNames() if n not in ARRIVAL_ORDER)


def dedupe_stream(classified: DataFrame, delay: Interval) -> DataFrame:
    """Every classified record once (PROBE false), plus a PROBE row for each accepted event_id that is new
    within the horizon (a copy of the record that happened to reach the state store first; only its id counts).

    Only accepted records have a key. Rejected ones share the null key, so they cost the state one row
    (not one each) and their probe is ignored: quarantine takes them from the records. Spark's
    `numDroppedDuplicateRows` therefore counts them too, beside the dropped copies. (A random key per
    rejected record, as before, is nondeterministic, and Spark then no longer reuses the shared shuffle.)
    The watermark runs on bronze ingestion time, not event time: it only grows
    as silver reads bronze in order, so Spark's late-row filter never drops a record, and an id's state
    lives for 2 x delay of ingestion time. ValidationRules.dedupe_delay sizes it so every copy silver can
    still accept arrives while the first copy's state exists (later copies are LATE_EVENT), with half the
    state an event-time watermark needs.

    The two branches start from one shuffle by key: `records` re-aliases its columns (the union takes
    its first branch's column ids), so the optimizer leaves both branches' shuffle inputs identical and
    Spark's exchange reuse computes the records once.
    """
    keyed = (
        classified.withColumn(_KEY, F.when(F.col(ACCEPTED), F.col("event_id")))
        .withColumn(_TIME, F.col("ingest_time"))
        .withWatermark(_TIME, delay.text)
        .repartition(_KEY)
    )
    # Both branches keep every column, the watermark's included, up to foreachBatch: a column one branch
    # dropped would be pruned below its shuffle, and the two shuffles would no longer be the same one.
    columns = keyed.columns
    records = keyed.select(*[F.col(c).alias(c) for c in columns], F.lit(False).alias(PROBE))
    new_ids = keyed.dropDuplicatesWithinWatermark([_KEY]).select(*columns, F.lit(True).alias(PROBE))
    return records.unionByName(new_ids)


def batch_records(batch: DataFrame) -> DataFrame:
    """Every record of a dedupe_stream micro-batch once, with classify_events' columns."""
    return batch.filter(~F.col(PROBE)).drop(_KEY, _TIME, PROBE)


def id_hash(event_id: Column) -> Column:
    """The 64-bit hash first_copies counts copies by (Spark's xxhash64; equal ids, equal hashes)."""
    return F.xxhash64(event_id)


def first_copies(batch: DataFrame) -> DataFrame:
    """Of a dedupe_stream micro-batch, one accepted record per new event id: its copy first by ARRIVAL_ORDER.

    An id with one accepted copy in the batch is its probe row (a copy of that record). Only the ids with
    several copies in the batch (a per-id count: one shuffle of ids) need a choice: their copies and
    probes, joined with those ids (broadcast, so the probes are not shuffled), go through one window by id,
    where the first row is the earliest copy (probes sort last) and the id is kept if a probe is among its rows.

    The count and the joins go by a 64-bit hash of the id (`xxhash64`), not the id's text: the count's
    shuffle and hash map then hold a long per copy instead of a string. Two ids with one hash are
    counted together, so an id with a single copy can be taken for one with several; it then goes
    through the window by its own id, where its one copy is first and its probe marks it new: the same
    row, by the longer road. The hash only has to find every id with several copies, and the copies of
    one id always share it (tests/streaming/test_first_copy.py runs the choice with every id colliding).
    """
    accepted, probe = F.col(ACCEPTED), F.col(PROBE)
    hashed = id_hash(F.col(_KEY)).alias(_HASH)
    candidates = batch.filter(~probe & accepted)
    probes = batch.filter(probe & accepted)
    copies = candidates.select(hashed).groupBy(_HASH).agg(F.count(F.lit(1)).alias(_COPIES))
    repeated = F.broadcast(copies.filter(F.col(_COPIES) > 1).select(_HASH))
    single = probes.select("*", hashed).join(repeated, _HASH, "left_anti")
    several = (
        candidates.select("*", hashed)
        .join(repeated, _HASH, "left_semi")
        .unionByName(probes.select(_KEY, PROBE, hashed).join(repeated, _HASH, "left_semi"), allowMissingColumns=True)
    )
    by_id = Window.partitionBy(_KEY).orderBy(
        F.col(PROBE), *(F.col(c).asc_nulls_first() for c in (*ARRIVAL_ORDER, *_VALUE_ORDER))
    )
    whole_id = by_id.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    first = several.select("*", F.row_number().over(by_id).alias(_RANK), F.max(PROBE).over(whole_id).alias(_NEW))
    chosen = first.filter((F.col(_RANK) == 1) & F.col(_NEW)).drop(_RANK, _NEW)
    return single.unionByName(chosen).drop(_KEY, _TIME, PROBE, _HASH)


def deduplicated(batch: DataFrame) -> DataFrame:
    """A dedupe_stream micro-batch as classified records: the first copy of each new id, every rejected record."""
    rejected = batch_records(batch).filter(~F.col(ACCEPTED))
    return first_copies(batch).unionByName(rejected)
