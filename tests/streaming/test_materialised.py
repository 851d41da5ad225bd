"""io.streams.materialised: a micro-batch computed once for several reads, and released afterwards."""

from __future__ import annotations

from typing import Any

import pytest
from pyspark.sql import DataFrame
from pyspark.sql import functions as F  # noqa: N812 (PySpark convention)

from streaming_jobs.io.streams import materialised

pytestmark = pytest.mark.spark


def _persistent_rdds(spark: Any) -> set[int]:
    return {int(i) for i in spark.sparkContext._jsc.getPersistentRDDs().keySet()}


def _counted_rows(spark: Any) -> tuple[DataFrame, Any]:
    """2,000 rows and an accumulator that counts how many times a row was computed."""
    computed = spark.sparkContext.accumulator(0)

    @F.udf("long")
    def count(i: int) -> int:
        computed.add(1)
        return i

    return spark.range(2000, numPartitions=2).select(count("id").alias("id")), computed


def test_every_read_sees_the_rows_computed_once(spark: Any) -> None:
    frame, computed = _counted_rows(spark)
    total = sum(range(2000))
    assert frame.agg(F.sum("id")).first()[0] == total
    assert frame.agg(F.sum("id")).first()[0] == total
    assert computed.value == 4000  # the premise: each read of a plain frame computes it again
    frame, computed = _counted_rows(spark)
    with materialised(frame) as batch:
        assert batch.agg(F.sum("id")).first()[0] == total
        assert batch.filter("id % 2 = 0").count() == 1000
    assert computed.value == 2000


def test_the_rows_are_released_on_exit(spark: Any) -> None:
    before = _persistent_rdds(spark)
    with materialised(_counted_rows(spark)[0]) as batch:
        assert batch.count() == 2000
        assert len(_persistent_rdds(spark) - before) == 1
    assert _persistent_rdds(spark) == before


def test_the_rows_are_released_when_a_write_fails(spark: Any) -> None:
    before = _persistent_rdds(spark)
    with pytest.raises(RuntimeError, match="append failed"), materialised(_counted_rows(spark)[0]):
        raise RuntimeError("append failed")
    assert _persistent_rdds(spark) == before


def test_the_rows_are_kept_as_objects_not_serialized(spark: Any) -> None:
    # PySpark's StorageLevel.MEMORY_AND_DISK is the serialized level: every row would go through
    # spark.serializer (Java serialization by default), which cost silver 1.15x its batch time.
    before = _persistent_rdds(spark)
    with materialised(_counted_rows(spark)[0]) as batch:
        assert batch.count() == 2000
        (new,) = _persistent_rdds(spark) - before
        level = spark.sparkContext._jsc.getPersistentRDDs().get(new).getStorageLevel()
        assert level.deserialized() and level.useMemory() and level.useDisk()
