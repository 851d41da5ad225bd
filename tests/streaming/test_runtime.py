"""One Spark line: the pin, the runtime mapping, the semantics in force locally, the local-only settings."""

from __future__ import annotations

import re
from pathlib import Path

import pyspark
import pytest
from pyspark.errors import PySparkException
from pyspark.sql import SparkSession

from streaming_jobs.jobs.common import JOB_CONF, ROCKSDB, configure
from streaming_jobs.local_pipeline import LOCAL_FILESYSTEM_CONF
from streaming_jobs.runtime import (
    DATABRICKS_ROCKSDB,
    DEPLOYED_RUNTIME,
    RUNTIME_SPARK,
    SINCE,
    SPARK_LINE,
    SPARK_SEMANTICS,
    STATE_STORE_PROVIDER,
    RuntimeMismatchError,
    check_runtime,
    local_only_conf,
    runtime_spark_version,
    spark_line,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("pins", ["requirements.txt", "constraints.txt"])
def test_the_pinned_and_installed_pyspark_are_on_the_deployed_line(pins: str) -> None:
    (pinned,) = re.findall(r"^pyspark==(\S+)$", (ROOT / pins).read_text(), re.MULTILINE)
    assert spark_line(pinned) == SPARK_LINE
    assert spark_line(pyspark.__version__) == SPARK_LINE
    assert spark_line(runtime_spark_version(DEPLOYED_RUNTIME)) == SPARK_LINE


def test_the_running_session_is_on_the_deployed_line(spark: SparkSession) -> None:
    assert spark_line(spark.version) == SPARK_LINE


def test_runtime_keys_map_through_the_release_notes_table() -> None:
    assert runtime_spark_version("17.3.x-scala2.13") == "4.0.0"
    assert runtime_spark_version("17.3.x-photon-scala2.13") == "4.0.0"
    assert runtime_spark_version("16.4.x-scala2.12") == "3.5.2"
    assert runtime_spark_version("18.x-scala2.13") == "4.1.0"
    assert set(RUNTIME_SPARK) >= {"16.4", "17.3", "18"}


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("16.4.x-scala2.12", "runs Apache Spark 3.5.2, but the jobs are tested on Spark 4.0"),
        ("18.x-scala2.13", "runs Apache Spark 4.1.0, but the jobs are tested on Spark 4.0"),
        ("17.2.x-scala2.13", "Databricks Runtime 17.2 is not one of the LTS runtimes"),
        ("17.3.x-gpu-ml-scala2.13", "is not a Databricks runtime key"),
    ],
)
def test_a_runtime_on_another_line_or_unknown_is_refused(key: str, message: str) -> None:
    with pytest.raises(RuntimeMismatchError, match=re.escape(message)):
        check_runtime(key)


def test_the_deployed_runtime_passes() -> None:
    check_runtime(DEPLOYED_RUNTIME)


def test_the_jobs_set_every_semantics_setting() -> None:
    for key, value in SPARK_SEMANTICS.items():
        assert JOB_CONF[key] == value, key
    assert SPARK_SEMANTICS["spark.sql.ansi.enabled"] == "true"


class _Conf:
    def __init__(self, values: dict[str, str]) -> None:
        self.values = dict(values)

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.values.get(key, default)

    def set(self, key: str, value: str) -> None:
        self.values[key] = value


class _Session:
    def __init__(self, values: dict[str, str]) -> None:
        self.conf = _Conf(values)


@pytest.mark.parametrize(
    ("cluster", "expected"),
    [
        # A stateful stage's job cluster names Databricks' RocksDB provider: the job keeps it.
        ({STATE_STORE_PROVIDER: DATABRICKS_ROCKSDB}, DATABRICKS_ROCKSDB),
        # Anywhere else (a local session, Spark's HDFS default) the job sets Apache Spark's RocksDB class.
        ({}, ROCKSDB),
        (
            {STATE_STORE_PROVIDER: "org.apache.spark.sql.execution.streaming.state.HDFSBackedStateStoreProvider"},
            ROCKSDB,
        ),
    ],
)
def test_the_jobs_keep_the_state_store_their_cluster_names(cluster: dict[str, str], expected: str) -> None:
    session = _Session(cluster)
    configure(session)  # type: ignore[arg-type]
    assert session.conf.values[STATE_STORE_PROVIDER] == expected
    assert all(session.conf.values[k] == v for k, v in SPARK_SEMANTICS.items())


def test_every_semantics_setting_is_in_force_in_the_local_session(spark: SparkSession) -> None:
    for key, value in SPARK_SEMANTICS.items():
        assert spark.conf.get(key) == value, key


def _line(version: str) -> tuple[int, int]:
    major, minor = spark_line(version).split(".")
    return int(major), int(minor)


def test_every_semantics_key_is_one_the_running_spark_knows(spark: SparkSession) -> None:
    """A misspelt key would be stored and read back as set while doing nothing: each key the running line
    has must be a registered, session-modifiable SQL conf."""
    running = _line(spark.version)
    for key in SPARK_SEMANTICS:
        if _line(SINCE.get(key, "3.5")) <= running:
            assert spark.conf.isModifiable(key), key
    assert not spark.conf.isModifiable("spark.sql.viewSchemaBindingMode")  # the migration guide's name
    assert set(SINCE) <= set(SPARK_SEMANTICS)


def test_ansi_mode_is_in_force_not_just_set(spark: SparkSession) -> None:
    with pytest.raises(PySparkException, match="CAST_INVALID_INPUT"):
        spark.sql("SELECT CAST('12,5' AS INT) AS v").collect()
    with pytest.raises(PySparkException, match="DIVIDE_BY_ZERO"):
        spark.sql("SELECT 1 / 0 AS v").collect()
    # The corrected (java.time) parser: a malformed timestamp is an error under ANSI, never the legacy parser's.
    with pytest.raises(PySparkException, match="CANNOT_PARSE_TIMESTAMP"):
        spark.sql("SELECT to_timestamp('2026-13-45', 'yyyy-MM-dd') AS v").collect()


def test_local_only_settings_follow_the_pyspark_line_and_stay_local(spark: SparkSession) -> None:
    assert local_only_conf("4.0.0")["spark.sql.streaming.checkpointFileManagerClass"] == (
        "org.apache.spark.sql.execution.streaming.FileSystemBasedCheckpointFileManager"
    )
    assert local_only_conf("4.1.0")["spark.sql.streaming.checkpointFileManagerClass"] == (
        "org.apache.spark.sql.execution.streaming.checkpointing.FileSystemBasedCheckpointFileManager"
    )
    manager = spark.conf.get("spark.sql.streaming.checkpointFileManagerClass")
    assert manager == LOCAL_FILESYSTEM_CONF["spark.sql.streaming.checkpointFileManagerClass"]
    # The class exists in the installed PySpark's jars (the shared session's streams use it).
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    assert jvm.java.lang.Class.forName(manager).getName() == manager
    assert not set(LOCAL_FILESYSTEM_CONF) & (set(JOB_CONF) | set(SPARK_SEMANTICS))


def test_the_checkpoint_benchmark_names_classes_the_running_spark_has(spark: SparkSession) -> None:
    # benchmarks/bench_checkpoint_io.py compares Spark's default managers with local_session's; a class
    # name from another Spark line (the 4.1 package on 4.0) failed its first run with ClassNotFoundException.
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from bench_checkpoint_io import VARIANTS

    jvm = spark.sparkContext._jvm
    assert jvm is not None
    # Every setting of every variant names a class: the checkpoint manager and the two file-system classes.
    names = [(variant, key, name) for variant, conf in VARIANTS.items() for key, name in conf.items()]
    assert len(names) == 6
    for variant, key, name in names:
        assert jvm.java.lang.Class.forName(name).getName() == name, f"{variant}: {key}"
