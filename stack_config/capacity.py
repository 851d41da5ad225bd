"""Stack config for the load a stack is built to carry: `rta-platform:capacity`.

The section declares the load (sustained and peak events/s, the mean size of an
event on the wire), the end-to-end latency objective and bronze's retention.
`stack_config/capacity_model.py` turns it into what the stack needs (Event Hubs
units and partitions, Confluent CKUs, job-cluster workers per stage, trigger
settings) and `StackConfig` refuses a stack that is smaller than that, with the
numbers (docs/capacity.md).
"""

from __future__ import annotations

from pydantic import Field, model_validator

from stack_config.section import Section

# A Kafka record, or an Event Hubs event, is at most 1 MB on every tier this platform uses
# (Event Hubs Standard/Premium/Dedicated: "Maximum size of Event Hubs publication 1 MB").
MAX_EVENT_BYTES = 1_048_576


class RetentionConfig(Section):
    """How long bronze keeps raw events: `hotDays` as a live table, then cold up to `coldDays` in all.

    Cold is a Delta operation, never blob lifecycle (docs/capacity.md, "Delta maintenance"): rows older
    than `hotDays` move from the bronze table to its archive table, and rows older than `coldDays` are
    deleted from the archive.
    """

    bronze_hot_days: int = Field(default=90, ge=1, le=3650)
    bronze_cold_days: int = Field(default=730, ge=1, le=3650)

    @model_validator(mode="after")
    def _ordered(self) -> RetentionConfig:
        if self.bronze_cold_days <= self.bronze_hot_days:
            raise ValueError(
                f"bronzeColdDays {self.bronze_cold_days} must be greater than bronzeHotDays {self.bronze_hot_days} "
                "(cold days count from the event, hot days included)"
            )
        return self


class CapacityConfig(Section):
    """`rta-platform:capacity`: the load the stack is sized for (required in prod)."""

    # Events per second on an ordinary busy day, and the highest the stack must absorb without falling behind.
    sustained_events_per_second: int = Field(gt=0, le=100_000_000)
    peak_events_per_second: int = Field(gt=0, le=100_000_000)
    # Mean size of one event as the broker counts it (payload, key and headers).
    mean_event_bytes: int = Field(gt=0, le=MAX_EVENT_BYTES)
    # p99 of event time -> gold commit, the latency objective the trigger settings are derived from.
    p99_latency_seconds: float = Field(gt=0, le=3600)
    # Provisioned above peak by this share: units, partitions and workers are sized for peak x (1 + headroom).
    headroom_percent: int = Field(default=25, ge=0, le=300)
    retention: RetentionConfig = RetentionConfig()

    @model_validator(mode="after")
    def _peak_above_sustained(self) -> CapacityConfig:
        if self.peak_events_per_second < self.sustained_events_per_second:
            raise ValueError(
                f"peakEventsPerSecond {self.peak_events_per_second:,} is below sustainedEventsPerSecond "
                f"{self.sustained_events_per_second:,}"
            )
        return self
