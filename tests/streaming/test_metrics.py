"""The latency tracker: observed event times joined with sink commits, read by polling the queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from streaming_jobs.metrics import OBSERVATION, LatencyTracker, percentile


@dataclass
class FakeProgress:
    id: str
    batchId: int  # noqa: N815 (Spark's name)
    observedMetrics: dict[str, Any]  # noqa: N815


@dataclass
class FakeQuery:
    """A StreamingQuery's progress API: lastProgress and the recent-progress list."""

    id: str
    progress: list[FakeProgress] = field(default_factory=list)
    recent_reads: int = 0

    def finish(self, batch_id: int, event_ms: list[int] | None) -> None:
        metrics = {} if event_ms is None else {OBSERVATION: {"rows": len(event_ms), "event_ms": event_ms}}
        self.progress.append(FakeProgress(self.id, batch_id, metrics))

    @property
    def lastProgress(self) -> FakeProgress | None:  # noqa: N802
        return self.progress[-1] if self.progress else None

    @property
    def recentProgress(self) -> list[FakeProgress]:  # noqa: N802
        self.recent_reads += 1
        return list(self.progress)


def test_latency_is_commit_time_minus_event_time() -> None:
    tracker, gold = LatencyTracker(keep_all=True), FakeQuery("q")
    tracker.committed("q", 0, at=100.0)
    gold.finish(0, [97_000, 99_500])
    tracker.poll(gold)
    assert tracker.all_latencies == [3.0, 0.5]
    assert tracker.rows_seen == 2


def test_batches_finished_between_polls_are_all_read_once() -> None:
    tracker, gold = LatencyTracker(keep_all=True), FakeQuery("q")
    for batch in range(3):
        tracker.committed("q", batch, at=10.0 + batch)
        gold.finish(batch, [9_000 + batch * 1000])
    tracker.poll(gold)
    tracker.poll(gold)  # nothing new: nothing counted twice
    assert sorted(tracker.all_latencies) == [1.0, 1.0, 1.0]
    assert gold.recent_reads == 1  # the gap was filled from the recent-progress list, once


def test_a_commit_reported_after_the_progress_still_joins() -> None:
    tracker, gold = LatencyTracker(keep_all=True), FakeQuery("q")
    gold.finish(0, [1_000])
    tracker.poll(gold)
    assert tracker.all_latencies == []
    tracker.committed("q", 0, at=4.0)
    assert tracker.all_latencies == [3.0]


def test_queries_without_the_observation_are_ignored() -> None:
    tracker, bronze = LatencyTracker(keep_all=True), FakeQuery("b")
    bronze.finish(0, None)
    tracker.committed("b", 0, at=1.0)
    tracker.poll(bronze)
    assert tracker.all_latencies == [] and tracker.rows_seen == 0


def test_live_percentiles_keep_the_recent_window() -> None:
    tracker, gold = LatencyTracker(recent=2), FakeQuery("q")
    tracker.committed("q", 0, at=10.0)
    gold.finish(0, [0, 5_000, 9_000])
    tracker.poll(gold)
    assert tracker.percentiles(50, 100) == [1.0, 5.0]  # the oldest sample (10 s) dropped out


def test_reset_drops_batches_of_before_it_even_if_half_joined() -> None:
    tracker, gold = LatencyTracker(keep_all=True), FakeQuery("q")
    tracker.committed("q", 0, at=50.0)  # a warm-up batch committed, its progress not read yet
    gold.finish(1, [1_000])
    tracker.poll(gold)  # a warm-up batch read, its commit not reported yet
    tracker.reset()
    gold.finish(0, [0])  # (its progress, late)
    tracker.committed("q", 1, at=60.0)
    tracker.committed("q", 2, at=70.0)
    gold.finish(2, [69_000])
    tracker.poll(gold)
    assert tracker.all_latencies == [1.0]  # only batch 2, wholly after the reset
    assert tracker.rows_seen == 1


@pytest.mark.parametrize(("p", "expected"), [(50, 2), (99, 4), (100, 4), (1, 1)])
def test_nearest_rank_percentile(p: float, expected: float) -> None:
    assert percentile([4, 1, 3, 2], p) == expected
