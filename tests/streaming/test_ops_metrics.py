"""The jobs' published metrics, progress document -> pipeline_metrics row, without Spark, Kafka or Delta.

The progress documents are shaped as Spark writes them (StreamingQueryProgress.json): a Kafka source reports
its offsets behind the latest as strings in `sources[].metrics`, a Delta source its files and bytes
outstanding, Apache Spark's file source nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from streaming_jobs import ops_metrics as om

BATCH_START = "2026-12-06T04:35:52.329Z"
START_EPOCH = datetime(2026, 12, 6, 4, 35, 52, 329000, tzinfo=UTC).timestamp()

KAFKA_PROGRESS = json.loads(
    """{"id":"3b1c","runId":"r-1","name":"bronze_trades","timestamp":"2026-12-06T04:35:52.329Z","batchId":41,
    "batchDuration":1840,"numInputRows":120000,"inputRowsPerSecond":60000.0,"processedRowsPerSecond":65217.39,
    "durationMs":{"addBatch":1700,"commitOffsets":40,"getBatch":0,"latestOffset":60,"queryPlanning":10,
    "triggerExecution":1840,"walCommit":30},"stateOperators":[],
    "sources":[{"description":"KafkaV2[Subscribe[trades]]","startOffset":{"trades":{"0":100,"1":200}},
    "endOffset":{"trades":{"0":60100,"1":60200}},"latestOffset":{"trades":{"0":60600,"1":61000}},
    "numInputRows":120000,"inputRowsPerSecond":60000.0,"processedRowsPerSecond":65217.39,
    "metrics":{"avgOffsetsBehindLatest":"650.0","maxOffsetsBehindLatest":"800","minOffsetsBehindLatest":"500",
    "estimatedTotalBytesBehindLatest":"NaN"}}],
    "sink":{"description":"DeltaSink[trades_raw]","numOutputRows":-1}}"""
)

DELTA_PROGRESS = {
    "id": "9f2e",
    "runId": "r-7",
    "name": "silver_cleanse",
    "timestamp": BATCH_START,
    "batchId": 5,
    "numInputRows": 300,
    "processedRowsPerSecond": 150.0,
    "durationMs": {"addBatch": 1900, "triggerExecution": 2000},
    "sources": [
        {
            "description": "DeltaSource[abfss://bronze@lake.dfs.core.windows.net/rta/bronze/trades_raw]",
            "numInputRows": 300,
            "metrics": {"numBytesOutstanding": "52428800", "numFilesOutstanding": "12"},
        }
    ],
}

# Apache Spark's file source (the local run's landing, bronze and silver sources): no `metrics` at all.
FILE_PROGRESS = {
    "id": "77aa",
    "runId": "r-2",
    "name": "gold_metrics",
    "timestamp": BATCH_START,
    "batchId": 3,
    "batchDuration": 392,
    "numInputRows": 5,
    "processedRowsPerSecond": 12.75,
    "durationMs": {"addBatch": 262, "triggerExecution": 392},
    "sources": [
        {
            "description": "FileStreamSource[file:/tmp/silver/trades/batch-*]",
            "startOffset": {"logOffset": 2},
            "endOffset": {"logOffset": 3},
            "latestOffset": None,
            "numInputRows": 5,
        }
    ],
    "observedMetrics": {om.EVENT_TIME_OBSERVATION: {"rows": 5, "event_ms_quantiles": [1796531747000, 1796531745500]}},
}


def test_a_kafka_source_s_backlog_is_its_offsets_behind_the_latest() -> None:
    row = om.metrics_row(KAFKA_PROGRESS, "bronze")
    assert row["stage"] == "bronze" and row["query_name"] == "bronze_trades"
    assert (row["query_id"], row["run_id"], row["batch_id"]) == ("3b1c", "r-1", 41)
    assert row["batch_timestamp"] == datetime(2026, 12, 6, 4, 35, 52, 329000, tzinfo=UTC)
    assert row["input_rows"] == 120000 and row["batch_duration_ms"] == 1840
    assert row["processed_rows_per_second"] == pytest.approx(65217.39)
    assert row["avg_offsets_behind"] == 650.0 and row["max_offsets_behind"] == 800
    assert row["files_behind"] is None and row["bytes_behind"] is None
    # Not gold: no serving commit, no latency.
    assert all(row[c] is None for c in ("serving_commit_time", "serving_lag_seconds", "latency_p99_seconds"))
    assert tuple(row) == om.METRICS_COLUMN_NAMES


def test_a_delta_source_s_backlog_is_its_files_and_bytes_outstanding() -> None:
    row = om.metrics_row(DELTA_PROGRESS, "silver")
    assert (row["files_behind"], row["bytes_behind"]) == (12, 52428800)
    assert row["avg_offsets_behind"] is None and row["max_offsets_behind"] is None
    # No batchDuration in the document: the trigger's execution time.
    assert row["batch_duration_ms"] == 2000


def test_a_file_source_reports_no_backlog() -> None:
    row = om.metrics_row(FILE_PROGRESS, "gold")
    assert [row[c] for c in ("avg_offsets_behind", "max_offsets_behind", "files_behind", "bytes_behind")] == [None] * 4


def test_several_sources_add_up_and_the_worst_partition_wins() -> None:
    second = {"metrics": {"avgOffsetsBehindLatest": "50.0", "maxOffsetsBehindLatest": "900"}}
    progress = {**KAFKA_PROGRESS, "sources": [*KAFKA_PROGRESS["sources"], second]}
    backlog = om.source_backlog(progress)
    assert backlog["avg_offsets_behind"] == 700.0 and backlog["max_offsets_behind"] == 900


def test_gold_latency_is_taken_at_the_serving_commit_from_the_observed_quantiles() -> None:
    """p50 = commit - the median event time; p99 = commit - the 1 % quantile (the oldest waited longest);
    serving lag = commit - the batch's start."""
    commit = START_EPOCH + 1.25
    row = om.metrics_row(FILE_PROGRESS, "gold", commit)
    assert row["serving_commit_time"] == datetime.fromtimestamp(commit, UTC)
    assert row["serving_lag_seconds"] == pytest.approx(1.25)
    assert row["latency_p50_seconds"] == pytest.approx(commit - 1796531747.0)
    assert row["latency_p99_seconds"] == pytest.approx(commit - 1796531745.5)
    assert row["latency_p99_seconds"] > row["latency_p50_seconds"]


def test_a_gold_batch_that_read_nothing_has_a_serving_lag_but_no_latency() -> None:
    empty = {**FILE_PROGRESS, "observedMetrics": {om.EVENT_TIME_OBSERVATION: {"rows": 0, "event_ms_quantiles": None}}}
    row = om.metrics_row(empty, "gold", START_EPOCH + 0.5)
    assert row["serving_lag_seconds"] == pytest.approx(0.5)
    assert row["latency_p50_seconds"] is None and row["latency_p99_seconds"] is None


def test_unknown_stage_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown stage"):
        om.metrics_row(KAFKA_PROGRESS, "platinum")


class ListSink:
    def __init__(self) -> None:
        self.appended: list[list[dict[str, Any]]] = []

    def append(self, rows: Any) -> None:
        self.appended.append(list(rows))


def test_the_publisher_writes_each_batch_once_and_skips_idle_triggers() -> None:
    sink = ListSink()
    gold_commits = {3: START_EPOCH + 2.0}
    publisher = om.MetricsPublisher(
        sink, {"bronze_trades": "bronze", "gold_metrics": "gold"}, {"gold_metrics": gold_commits}
    )
    # An idle trigger repeats the last batch id and ran no batch (no addBatch).
    idle = {**KAFKA_PROGRESS, "durationMs": {"latestOffset": 5, "triggerExecution": 5}, "numInputRows": 0}
    unknown = {**DELTA_PROGRESS, "name": "someone_elses_query"}
    assert publisher.publish([KAFKA_PROGRESS, idle, FILE_PROGRESS, unknown]) == 2
    # The same documents again (recentProgress returns the last hundred): nothing new.
    assert publisher.publish([KAFKA_PROGRESS, idle, FILE_PROGRESS]) == 0
    # A restart: a new run id starts its batches again from the checkpoint's; it is published.
    restarted = {**KAFKA_PROGRESS, "runId": "r-9"}
    assert publisher.publish([restarted]) == 1
    assert len(sink.appended) == 2
    first = sink.appended[0]
    assert [r["stage"] for r in first] == ["bronze", "gold"]
    assert first[1]["serving_lag_seconds"] == pytest.approx(2.0)
    assert gold_commits == {}, "a published commit time is dropped"
    assert publisher.published == 3


def test_the_table_ddl_and_the_row_tuple_follow_one_column_list() -> None:
    ddl = om.create_metrics_table_sql("`rta`.`gold`")
    assert ddl.startswith("CREATE TABLE IF NOT EXISTS `rta`.`gold`.`pipeline_metrics` (") and "USING DELTA" in ddl
    positions = [ddl.index(f"{c.name} {c.type} COMMENT '") for c in om.METRICS_COLUMNS]
    assert positions == sorted(positions)
    assert ddl.count("'") % 2 == 0 and "query's" not in ddl
    row = om.metrics_row(KAFKA_PROGRESS, "bronze")
    assert om.as_tuple(row)[:5] == ("bronze", "bronze_trades", "3b1c", "r-1", 41)
    assert om.METRICS_SCHEMA_DDL.split(", ")[0] == "stage STRING"


def test_the_quality_view_is_bounded_on_arrival_time_and_names_its_columns() -> None:
    sql = om.quality_view_sql("`rta`.`gold`", "`rta`.`silver`.`trades`", "`rta`.`silver`.`trades_quarantine`")
    assert sql.startswith("CREATE OR REPLACE VIEW `rta`.`gold`.`v_data_quality` AS SELECT ")
    assert sql.count(f"`ingest_time` >= current_timestamp() - INTERVAL {om.QUALITY_VIEW_HORIZON_MINUTES} MINUTES") == 2
    select_list = sql.split(" AS SELECT ", 1)[1].split(" FROM ", 1)[0]
    for column in om.QUALITY_VIEW_COLUMNS:
        assert column in select_list


class FakeProgress:
    def __init__(self, document: dict[str, Any]) -> None:
        self.json = json.dumps(document)


class FakeQuery:
    """A query that runs one poll, then ends: its progress is the Kafka document above."""

    name = "bronze_trades"

    def __init__(self) -> None:
        self.polls = 0
        self.recentProgress = [FakeProgress(KAFKA_PROGRESS)]

    @property
    def isActive(self) -> bool:  # noqa: N802 (Spark's name)
        return self.polls < 1

    def exception(self) -> None:
        return None

    def stop(self) -> None:
        pass


class FakeStreams:
    def __init__(self, query: FakeQuery) -> None:
        self.query, self.timeouts = query, []

    def awaitAnyTermination(self, timeout: int) -> None:  # noqa: N802 (Spark's name)
        self.timeouts.append(timeout)
        self.query.polls += 1

    def resetTerminated(self) -> None:  # noqa: N802 (Spark's name)
        pass


def test_the_job_loop_publishes_while_its_queries_run_and_a_failed_write_never_stops_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from types import SimpleNamespace

    from streaming_jobs.jobs.common import run_until_terminated

    query = FakeQuery()
    spark = SimpleNamespace(streams=FakeStreams(query))
    sink = ListSink()
    publisher = om.MetricsPublisher(sink, {"bronze_trades": "bronze"})
    run_until_terminated(spark, [query], publisher, publish_seconds=15)  # type: ignore[arg-type, list-item]
    assert spark.streams.timeouts == [15]
    assert [[r["batch_id"] for r in rows] for rows in sink.appended] == [[41]], "published once, not again at exit"

    class BrokenSink:
        def append(self, rows: Any) -> None:
            raise OSError("the metrics table is gone")

    query = FakeQuery()
    spark = SimpleNamespace(streams=FakeStreams(query))
    run_until_terminated(spark, [query], om.MetricsPublisher(BrokenSink(), {"bronze_trades": "bronze"}))  # type: ignore[arg-type, list-item]
    assert "publishing the pipeline metrics failed" in caplog.text
