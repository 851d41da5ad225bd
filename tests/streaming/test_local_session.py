"""The local session's JVM settings reach the JVM: Spark ignores driver options once a JVM runs, silently."""

from __future__ import annotations

import pytest

from streaming_jobs.local_pipeline import LOCAL_JVM_OPTIONS, jvm_options

pytestmark = pytest.mark.spark


def test_the_local_jvm_runs_the_parallel_collector(spark) -> None:  # type: ignore[no-untyped-def]
    assert "-XX:+UseParallelGC" in LOCAL_JVM_OPTIONS
    jvm = spark.sparkContext._jvm
    collectors = {b.getName() for b in jvm.java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()}
    # HotSpot names the parallel collector's young and old generation collectors "PS Scavenge" and
    # "PS MarkSweep"; G1 would show "G1 Young Generation".
    assert collectors == {"PS Scavenge", "PS MarkSweep"}, collectors


def test_the_local_jvm_commits_its_whole_heap_from_the_start(spark) -> None:  # type: ignore[no-untyped-def]
    jvm = spark.sparkContext._jvm
    arguments = list(jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments())
    # conftest's session runs with driver_memory="2g"; Spark turns that into -Xmx2g.
    assert "-Xms2g" in arguments and "-Xmx2g" in arguments, arguments


def test_the_initial_heap_follows_the_driver_memory_unless_set() -> None:
    assert jvm_options(LOCAL_JVM_OPTIONS, "6g") == f"{LOCAL_JVM_OPTIONS} -Xms6g"
    assert jvm_options("-XX:+UseG1GC -Xms1g", "6g") == "-XX:+UseG1GC -Xms1g"
    assert jvm_options("", "4g") == "-Xms4g"
