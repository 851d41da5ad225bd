"""De-duplicate accepted events by id within the watermark, with Spark's own state store."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F  # noqa: N812 (PySpark convention)

from streaming_jobs.config import Interval
from streaming_jobs.transforms.validate import ACCEPTED

_KEY, _TIME = "_dedupe_key", "_dedupe_time"
# Event ids start with a letter or digit (validate.EVENT_ID_PATTERN), so no id can take this prefix.
REJECTED_KEY_PREFIX = "\u0000rejected:"


def drop_duplicate_events(classified: DataFrame, delay: Interval) -> DataFrame:
    """Keep the first copy of each accepted event_id; every rejected record passes.

    Accepted and rejected records go through one stateful operator, so silver is one query over one
    parse. A rejected record gets a key no other record has (a random UUID, never an event id), so
    it is never a duplicate.

    The watermark runs on bronze ingestion time, not event time: it only grows as silver reads bronze
    in order, so Spark's late-row filter never drops a record, and an id's state lives for 2 x delay
    of ingestion time. ValidationRules.dedupe_delay sizes it so every copy silver can still accept
    arrives while the first copy's state exists (later copies are LATE_EVENT), with half the state an
    event-time watermark needs.
    """
    accepted = F.col(ACCEPTED)
    key = F.when(accepted, F.col("event_id")).otherwise(F.concat(F.lit(REJECTED_KEY_PREFIX), F.expr("uuid()")))
    return (
        classified.withColumn(_KEY, key)
        .withColumn(_TIME, F.col("ingest_time"))
        .withWatermark(_TIME, delay.text)
        .dropDuplicatesWithinWatermark([_KEY])
        .drop(_KEY, _TIME)
    )
