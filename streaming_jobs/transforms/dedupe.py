"""De-duplicate events by id within the watermark, with Spark's own state store."""

from __future__ import annotations

from pyspark.sql import DataFrame

from streaming_jobs.config import Interval


def drop_duplicate_events(valid: DataFrame, state_watermark: Interval) -> DataFrame:
    """Keep the first copy of each event_id.

    State for an id lives until the watermark passes its event time plus the
    delay; ValidationRules.state_watermark is sized so every copy silver can
    still accept arrives while that state exists (later copies are LATE_EVENT).
    """
    return valid.withWatermark("event_time", state_watermark.text).dropDuplicatesWithinWatermark(["event_id"])
