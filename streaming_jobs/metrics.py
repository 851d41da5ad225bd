"""End-to-end latency (event time -> gold row visible) and throughput, measured from the queries.

The gold query observes the event times of the rows it reads (`observe`, a
Spark-native per-batch metric); the gold writer records when each batch's sink
transaction committed. Latency of an event = that commit time minus its event
time. Used by the local run's live view and by the benchmark, never by jobs.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from pyspark.sql import DataFrame
from pyspark.sql import functions as F  # noqa: N812 (PySpark convention)
from pyspark.sql.streaming import StreamingQueryListener

OBSERVATION = "gold_input_event_times"


# Observed metrics travel in the query progress JSON: keep the list short (large ones overflow Spark's
# stack when the progress is processed).
MAX_SAMPLES_PER_BATCH = 2000


def observe_event_times(silver: DataFrame, sample_every: int = 1) -> DataFrame:
    """Adds a per-batch metric: the event times (epoch ms) of a deterministic sample of the rows gold reads.

    The sample is 1 in `sample_every` by a hash of the event id, at most MAX_SAMPLES_PER_BATCH per batch.
    """
    ms = F.unix_millis(F.col("event_time"))
    if sample_every > 1:
        ms = F.when(F.abs(F.xxhash64("event_id")) % sample_every == 0, ms)
    return silver.observe(
        OBSERVATION,
        F.count(F.lit(1)).alias("rows"),
        F.slice(F.collect_list(ms), 1, MAX_SAMPLES_PER_BATCH).alias("event_ms"),
    )


@dataclass
class LatencyTracker(StreamingQueryListener):
    """Joins observed event times with sink commit times by (query id, batch id)."""

    recent: int = 50_000  # latencies kept for the live percentiles
    keep_all: bool = False  # the benchmark keeps every latency of the measured interval
    rows_seen: int = 0
    all_latencies: list[float] = field(default_factory=list)
    _recent: deque[float] = field(default_factory=deque)
    _commits: dict[tuple[str, int], float] = field(default_factory=dict)
    _observed: dict[tuple[str, int], tuple[int, list[int]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def committed(self, query_id: str, batch_id: int, at: float | None = None) -> None:
        """Called by the gold writer once the batch is committed to its sinks."""
        with self._lock:
            self._commits[(query_id, batch_id)] = time.time() if at is None else at
            self._join((query_id, batch_id))

    def onQueryStarted(self, event: object) -> None:  # noqa: N802 (Spark's API)
        pass

    def onQueryProgress(self, event: object) -> None:  # noqa: N802
        progress = event.progress  # type: ignore[attr-defined]
        metric = progress.observedMetrics.get(OBSERVATION)
        if metric is None:
            return
        key = (str(progress.id), int(progress.batchId))
        with self._lock:
            self._observed[key] = (int(metric["rows"]), list(metric["event_ms"] or []))
            self._join(key)

    def onQueryIdle(self, event: object) -> None:  # noqa: N802
        pass

    def onQueryTerminated(self, event: object) -> None:  # noqa: N802
        pass

    def _join(self, key: tuple[str, int]) -> None:
        if key not in self._commits or key not in self._observed:
            return
        commit = self._commits.pop(key)
        rows, event_ms = self._observed.pop(key)
        self.rows_seen += rows
        lats = [commit - ms / 1000.0 for ms in event_ms]
        self._recent.extend(lats)
        while len(self._recent) > self.recent:
            self._recent.popleft()
        if self.keep_all:
            self.all_latencies.extend(lats)

    def reset(self) -> None:
        with self._lock:
            self._recent.clear()
            self.all_latencies.clear()
            self.rows_seen = 0

    def percentiles(self, *ps: float) -> list[float | None]:
        with self._lock:
            data = sorted(self._recent)
        return [percentile(data, p, presorted=True) if data else None for p in ps]


def percentile(values: list[float], p: float, presorted: bool = False) -> float:
    """Nearest-rank percentile."""
    s = values if presorted else sorted(values)
    rank = max(1, math.ceil(p / 100.0 * len(s)))
    return s[rank - 1]
