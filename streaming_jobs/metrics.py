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
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F  # noqa: N812 (PySpark convention)
from pyspark.sql.streaming import StreamingQuery

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
class LatencyTracker:
    """Joins observed event times with sink commit times by (query id, batch id).

    The observed metrics are read by polling the queries (`poll`), not by a StreamingQueryListener: a
    Python listener gets every progress of every query converted field by field over py4j (hundreds
    of JVM round trips, each with class lookups, per micro-batch), CPU taken from the pipeline it
    measures; `lastProgress` is one JSON document.
    """

    recent: int = 50_000  # latencies kept for the live percentiles
    keep_all: bool = False  # the benchmark keeps every latency of the measured interval
    rows_seen: int = 0
    all_latencies: list[float] = field(default_factory=list)
    _recent: deque[float] = field(default_factory=deque)
    _commits: dict[tuple[str, int], float] = field(default_factory=dict)
    _observed: dict[tuple[str, int], tuple[int, list[int]]] = field(default_factory=dict)
    _polled: dict[str, int] = field(default_factory=dict)  # query id -> last batch id read
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def committed(self, query_id: str, batch_id: int, at: float | None = None) -> None:
        """Called by the gold writer once the batch is committed to its sinks."""
        with self._lock:
            self._commits[(query_id, batch_id)] = time.time() if at is None else at
            self._join((query_id, batch_id))

    def poll(self, *queries: StreamingQuery) -> None:
        """Read the observed metrics of the batches the queries finished since the last poll. One
        `lastProgress` per query; the recent-progress list only when batches finished in between."""
        for query in queries:
            last = query.lastProgress
            if last is None:
                continue
            qid = str(last.id)
            seen = self._polled.get(qid, -1)
            if last.batchId <= seen:
                continue
            updates = [last] if last.batchId == seen + 1 else query.recentProgress
            for progress in updates:
                if progress.batchId > seen:
                    self._observe(qid, int(progress.batchId), progress.observedMetrics.get(OBSERVATION))
            self._polled[qid] = int(last.batchId)

    def _observe(self, query_id: str, batch_id: int, metric: Any) -> None:
        if metric is None:
            return
        key = (query_id, batch_id)
        with self._lock:
            self._observed[key] = (int(metric["rows"]), list(metric["event_ms"] or []))
            self._join(key)

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
        """Start a measured interval: batches already committed or read, joined or still waiting for
        their other half, are not counted in it."""
        with self._lock:
            self._recent.clear()
            self.all_latencies.clear()
            self.rows_seen = 0
            self._commits.clear()
            self._observed.clear()

    def percentiles(self, *ps: float) -> list[float | None]:
        with self._lock:
            data = sorted(self._recent)
        return [percentile(data, p, presorted=True) if data else None for p in ps]


def percentile(values: list[float], p: float, presorted: bool = False) -> float:
    """Nearest-rank percentile."""
    s = values if presorted else sorted(values)
    rank = max(1, math.ceil(p / 100.0 * len(s)))
    return s[rank - 1]
