"""io.streams.concurrently: the silver batch's two appends at once, ended together, in the stream's Spark context."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from streaming_jobs.io.streams import concurrently

pytestmark = pytest.mark.spark


def test_the_calls_run_at_once_and_their_results_come_in_call_order(spark: Any) -> None:
    # Each call waits for the other at a barrier: one after the other, the first would time out.
    barrier = threading.Barrier(2, timeout=10)

    def meet(value: str) -> str:
        barrier.wait()
        return value

    assert concurrently(spark, lambda: meet("trades"), lambda: meet("quarantine")) == ["trades", "quarantine"]


@pytest.mark.parametrize("failing", ["first", "other"])
def test_a_failure_is_raised_only_after_every_call_has_ended(spark: Any, failing: str) -> None:
    # Nothing of the batch may still be writing when the batch fails: its replay would write it again.
    ended: list[str] = []

    def fail() -> bool:
        raise RuntimeError(f"{failing} failed")

    def slow() -> bool:
        time.sleep(0.5)
        ended.append("slow")
        return True

    calls = (fail, slow) if failing == "first" else (slow, fail)
    with pytest.raises(RuntimeError, match=f"{failing} failed"):
        concurrently(spark, *calls)
    assert ended == ["slow"]


def test_the_other_threads_jobs_carry_the_callers_job_group(spark: Any) -> None:
    # Stopping a query cancels its micro-batch's jobs by the stream's job group; a write started from a
    # thread without it would run on after the stop.
    sc = spark.sparkContext
    sc.setJobGroup("rta-test-group", "concurrently", interruptOnCancel=True)
    try:
        seen = concurrently(
            spark,
            lambda: sc.getLocalProperty("spark.jobGroup.id"),
            lambda: sc.getLocalProperty("spark.jobGroup.id"),
        )
        # And Spark jobs run from the other thread as from this one.
        rows = concurrently(spark, lambda: spark.range(10).count(), lambda: spark.range(20).count())
    finally:
        sc.setLocalProperty("spark.jobGroup.id", None)
        sc.setLocalProperty("spark.job.description", None)
        sc.setLocalProperty("spark.job.interruptOnCancel", None)
    assert seen == ["rta-test-group", "rta-test-group"]
    assert rows == [10, 20]
