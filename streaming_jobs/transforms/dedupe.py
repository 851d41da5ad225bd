"""De-duplicate accepted events by id within the watermark, with Spark's own state store."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F  # noqa: N812 (PySpark convention)

from streaming_jobs.config import Interval
from streaming_jobs.transforms.validate import ACCEPTED

_KEY, _TIME = "_dedupe_key", "_dedupe_time"
# Event ids start with a letter or digit (validate.EVENT_ID_PATTERN), so no id can take this prefix.
REJECTED_KEY_PREFIX = "\u0000rejected:"


def drop_duplicate_events(classified: DataFrame, state_watermark: Interval) -> DataFrame:
    """Keep the first copy of each accepted event_id; every rejected record passes.

    Accepted and rejected records go through one stateful operator, so silver is one query over one
    parse. A rejected record gets a key no other record has (a random UUID, never an event id) and
    the bronze ingestion time as its event time, so it is never a duplicate and its state entry
    expires with the watermark. That time cannot drop anything either: an accepted event is at most
    the watermark older than its ingestion, so it is never behind Spark's watermark (state delay =
    watermark + max future skew).

    State for an id lives until the watermark passes its event time plus the delay;
    ValidationRules.state_watermark is sized so every copy silver can still accept arrives while that
    state exists (later copies are LATE_EVENT).
    """
    accepted = F.col(ACCEPTED)
    key = F.when(accepted, F.col("event_id")).otherwise(F.concat(F.lit(REJECTED_KEY_PREFIX), F.expr("uuid()")))
    time = F.when(accepted, F.col("event_time")).otherwise(F.col("ingest_time"))
    return (
        classified.withColumn(_KEY, key)
        .withColumn(_TIME, time)
        .withWatermark(_TIME, state_watermark.text)
        .dropDuplicatesWithinWatermark([_KEY])
        .drop(_KEY, _TIME)
    )
