"""The Spark line the jobs run on, and the settings whose defaults differ between the lines they could meet.

Imports no Spark: the stack reads it (config validation, the job clusters' `spark_conf`), and so do the
local session, the jobs and the smoke job. One place decides:

* `SPARK_LINE`: the Apache Spark major.minor the tests run (requirements.txt pins PySpark on it, and
  tests/streaming/test_runtime.py checks the pin and the installed PySpark against it);
* `RUNTIME_SPARK`: Databricks runtime -> the Apache Spark version it runs, so a stack whose
  `clusterPolicy.sparkVersion` runs another line is refused before anything deploys;
* `SPARK_SEMANTICS`: every setting whose default differs between Spark 3.5, 4.0 and 4.1 and that can
  change what the jobs compute or whether they fail, set to one value on the clusters (the job clusters'
  `spark_conf` and the cluster policies) and in the local session alike;
* `local_only_conf`: what only local runs set (class names that moved between lines), chosen by version,
  never deployed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Databricks Runtime -> Apache Spark, from Databricks' release notes, "Supported Databricks Runtime LTS
# releases" (https://learn.microsoft.com/azure/databricks/release-notes/runtime/ and
# https://docs.databricks.com/release-notes/runtime/): 14.3 LTS 3.5.0 (end of support Feb 1, 2027),
# 15.4 LTS 3.5.0 (Aug 19, 2027), 16.4 LTS 3.5.2 (May 9, 2028), 17.3 LTS 4.0.0 (Oct 22, 2028),
# 18 LTS 4.1.0 (released June 10, 2026, end of support June 10, 2029). Only LTS runtimes: a streaming
# job that runs for months must not sit on a runtime with six months of support.
RUNTIME_SPARK: dict[str, str] = {
    "14.3": "3.5.0",
    "15.4": "3.5.0",
    "16.4": "3.5.2",
    "17.3": "4.0.0",
    "18": "4.1.0",
}

# The line the jobs are deployed to and tested on: Databricks Runtime 17.3 LTS (Apache Spark 4.0.0).
# 17.3 rather than 18: its runtime key ("17.3.x-scala2.13") is documented and its line has every API
# the jobs use (DataFrame.groupingSets and localCheckpoint(storageLevel=...) are 4.0 APIs); 18 LTS
# (Spark 4.1) is the next move, one entry here and one pin in requirements.txt.
SPARK_LINE = "4.0"
DEPLOYED_RUNTIME = "17.3.x-scala2.13"

# A runtime key: "17.3.x-scala2.13", "16.4.x-photon-scala2.12" (ML and GPU runtimes are not for these jobs).
_RUNTIME_KEY = re.compile(r"^(?P<version>\d{1,2}(?:\.\d{1,2})?)\.x(?:-photon)?-scala\d\.\d{1,2}$")


class RuntimeMismatchError(ValueError):
    """A runtime key the jobs cannot run on: unknown, or on another Spark line than the tests."""


def spark_line(version: str) -> str:
    """ "4.0.0" -> "4.0"."""
    parts = version.split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts[:2]):
        raise ValueError(f"{version!r} is not a Spark version")
    return f"{parts[0]}.{parts[1]}"


def runtime_spark_version(runtime_key: str) -> str:
    """The Apache Spark version a Databricks runtime key runs, from RUNTIME_SPARK."""
    match = _RUNTIME_KEY.match(runtime_key)
    if match is None:
        raise RuntimeMismatchError(f"{runtime_key!r} is not a Databricks runtime key such as {DEPLOYED_RUNTIME!r}")
    version = match["version"]
    if version not in RUNTIME_SPARK:
        raise RuntimeMismatchError(
            f"Databricks Runtime {version} is not one of the LTS runtimes streaming_jobs/runtime.py knows "
            f"({', '.join(sorted(RUNTIME_SPARK))}); add it with the Spark version its release notes give"
        )
    return RUNTIME_SPARK[version]


def check_runtime(runtime_key: str, line: str = SPARK_LINE) -> None:
    """Refuse a runtime whose Spark line is not the one the jobs are tested on."""
    spark = runtime_spark_version(runtime_key)
    if spark_line(spark) != line:
        raise RuntimeMismatchError(
            f"{runtime_key!r} runs Apache Spark {spark}, but the jobs are tested on Spark {line} "
            f"(streaming_jobs/runtime.py SPARK_LINE, the PySpark pin in requirements.txt); use a runtime "
            f"of that line, such as {DEPLOYED_RUNTIME!r}, or move SPARK_LINE and the pin together"
        )


# Settings whose defaults differ between Spark 3.5, 4.0 and 4.1 (Apache Spark's migration guides,
# https://spark.apache.org/docs/latest/sql-migration-guide.html "Upgrading from Spark SQL 3.5 to 4.0" and
# "4.0 to 4.1", and .../streaming/ss-migration-guide.html), set to one value wherever the jobs run.
# Checked and left out, because nothing here meets them: spark.sql.legacy.createHiveTableByDefault (every
# CREATE TABLE says USING DELTA), the JDBC data source's type mappings (gold's Azure SQL upsert goes through
# java.sql, not Spark's JDBC source), ORC compression, map-key normalisation, `!` for NOT, Parquet struct
# nullness (the jobs read no Parquet struct columns).
SPARK_SEMANTICS: dict[str, str] = {
    # 3.5: false, 4.0+: true (and on Databricks Runtime 17+). On: an overflow, a division by zero or a cast
    # that cannot hold fails the batch instead of writing null or a wrapped number. The validation in
    # transforms/validate.py decides what is bad data before any such arithmetic runs.
    "spark.sql.ansi.enabled": "true",
    # ANSI on every line since 3.0, pinned because it decides what a write into a typed table does with a
    # value that does not fit its column (fail, not truncate).
    "spark.sql.storeAssignmentPolicy": "ANSI",
    # 3.5: EXCEPTION, 4.0+: CORRECTED. Event times are parsed with the current (java.time) parser; a text
    # the parser cannot read is a BAD_TYPE record, never an error about the Spark 2 parser.
    "spark.sql.legacy.timeParserPolicy": "CORRECTED",
    # New in 4.0, on by default: views record a schema binding mode (WITH SCHEMA ...), and a view whose
    # underlying column changed type compensates with a cast (COMPENSATION) instead of failing; 3.5 has
    # neither. The gold views over the gold Delta tables (io/delta.gold_view_sql) behave the same on every
    # line that has them. (The migration guide calls these spark.sql.viewSchemaBindingMode; the 4.0 and
    # 4.3 jars register spark.sql.legacy.viewSchemaBindingMode and spark.sql.legacy.viewSchemaCompensation,
    # and tests/streaming/test_runtime.py checks every key here is one the running Spark knows.)
    "spark.sql.legacy.viewSchemaBindingMode": "true",
    "spark.sql.legacy.viewSchemaCompensation": "true",
    # 4.1 turns on adaptive execution for stateless streaming queries (bronze); 4.0 has none. Off: bronze's
    # micro-batches keep the plan (and the file count per batch) the tests measured.
    "spark.sql.adaptive.streaming.stateless.enabled": "false",
    # Event times, windows and the serving tables are UTC whatever the cluster's zone.
    "spark.sql.session.timeZone": "UTC",
}

# The stateful stages' state store, in their job clusters' spark_conf (components/databricks_jobs.py): Databricks'
# RocksDB provider, the class its docs name (learn.microsoft.com/azure/databricks/structured-streaming/
# rocksdb-state-store: "com.databricks.sql.streaming.state.RocksDBStateStoreProvider"; the default from
# Databricks Runtime 17.3, set so the choice never rests on a runtime default), with changelog checkpointing,
# which the same page recommends for every stateful query. Locally the jobs use Apache Spark's RocksDB class
# (jobs/common.py), which does not exist under this name outside Databricks. A query keeps the provider its
# checkpoint recorded.
STATE_STORE_PROVIDER = "spark.sql.streaming.stateStore.providerClass"
DATABRICKS_ROCKSDB = "com.databricks.sql.streaming.state.RocksDBStateStoreProvider"
STATEFUL_CLUSTER_CONF: dict[str, str] = {
    STATE_STORE_PROVIDER: DATABRICKS_ROCKSDB,
    "spark.sql.streaming.stateStore.rocksdb.changelogCheckpointing.enabled": "true",
}

# Keys a line before the given one does not have (and ignores): the tests check every other key is
# registered by the running Spark, so a misspelt key cannot pass as "set".
SINCE: dict[str, str] = {
    "spark.sql.legacy.viewSchemaBindingMode": "4.0",
    "spark.sql.legacy.viewSchemaCompensation": "4.0",
    "spark.sql.adaptive.streaming.stateless.enabled": "4.1",
}

# Every key above is a SQL conf: a cluster's spark_conf sets it for every session, and a line that lacks a
# key (3.5 has no viewSchemaBindingMode, 4.0 no adaptive.streaming.stateless) keeps it and ignores it.


# The checkpoint file manager left org.apache.spark.sql.execution.streaming for its `checkpointing` sub-package
# when the streaming execution code was reorganised (SPARK-52787, Spark 4.1). The 4.0 name is read off the
# pinned PySpark's jars by tests/streaming/test_runtime.py. Local runs only: on Databricks checkpoints live on
# cloud storage behind the runtime's own manager.
_OLD_MANAGER = "org.apache.spark.sql.execution.streaming.FileSystemBasedCheckpointFileManager"
_NEW_MANAGER = "org.apache.spark.sql.execution.streaming.checkpointing.FileSystemBasedCheckpointFileManager"


def local_only_conf(spark_version: str) -> Mapping[str, str]:
    """Settings only local runs use, for the PySpark line that runs them (never deployed).

    Hadoop's local file system without its native library (pip's pyspark has none) runs a `chmod` process
    for every file it creates, and the FileContext API Spark prefers for checkpoints also runs `readlink` on
    every rename: ~90 ms per offset-log or commit-log write. The FileSystem-based manager and the checksum-
    free local file system avoid most of them (benchmarks/bench_checkpoint_io.py).
    """
    major, minor = (int(p) for p in spark_line(spark_version).split("."))
    manager = _OLD_MANAGER if (major, minor) < (4, 1) else _NEW_MANAGER
    return {
        "spark.sql.streaming.checkpointFileManagerClass": manager,
        "spark.hadoop.fs.file.impl": "org.apache.hadoop.fs.RawLocalFileSystem",
        "spark.hadoop.fs.AbstractFileSystem.file.impl": "org.apache.hadoop.fs.local.RawLocalFs",
    }
