"""The local session's JVM settings reach the JVM: Spark ignores driver options once a JVM runs, silently."""

from __future__ import annotations

import pytest

from streaming_jobs.local_pipeline import LOCAL_JVM_OPTIONS

pytestmark = pytest.mark.spark


def test_the_local_jvm_runs_the_parallel_collector(spark) -> None:  # type: ignore[no-untyped-def]
    assert "-XX:+UseParallelGC" in LOCAL_JVM_OPTIONS
    jvm = spark.sparkContext._jvm
    collectors = {b.getName() for b in jvm.java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()}
    # HotSpot names the parallel collector's young and old generation collectors "PS Scavenge" and
    # "PS MarkSweep"; G1 would show "G1 Young Generation".
    assert collectors == {"PS Scavenge", "PS MarkSweep"}, collectors
