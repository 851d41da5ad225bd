"""What the jobs publish about themselves: one metrics row per micro-batch, and the data-quality view.

Imports no Spark: the stack (components/serving_dashboards.py) reads the table's and the view's names and
columns from here, the jobs write them (jobs/common.py polls the queries; io/delta.py and the local
pipeline append the rows), and the tests check the pure functions on progress documents as Spark writes
them.

Both objects live in the gold schema, next to the tables the dashboards and the SQL alerts already read:
the jobs' service principal is its only writer (components/unity_catalog.py grants it CREATE_TABLE and
MODIFY there), every group that reads gold reads them.

* `pipeline_metrics` (Delta): one row per micro-batch a job's query ran, built by `metrics_row` from the
  query's progress JSON (StreamingQueryProgress.json: `id`, `runId`, `batchId`, `timestamp`,
  `numInputRows`, `processedRowsPerSecond`, `batchDuration`, `sources[].metrics`). The source backlog is
  what the source reports in `sources[].metrics`: Kafka's `avgOffsetsBehindLatest` and
  `maxOffsetsBehindLatest` (SPARK-24863; Databricks, "Monitoring Structured Streaming queries",
  https://learn.microsoft.com/azure/databricks/structured-streaming/stream-monitoring, Kafka source
  metrics), Delta's `numFilesOutstanding` and `numBytesOutstanding` (same page, Delta Lake source
  metrics). Apache Spark's file source reports none (its progress has no `metrics`: the local run's
  sources), so the backlog columns are NULL there. For gold the row also carries the event-time latency
  of the batch at its serving commit (`latency_p50_seconds`, `latency_p99_seconds`) and the SQL serving
  lag (`serving_lag_seconds`), below.
* `v_data_quality` (view): arrivals per one-minute window of bronze arrival (`ingest_time`, which silver
  and quarantine keep as lineage), accepted (silver) or quarantined by reason. The dashboard's quality
  and quarantine tiles and the quality alert all read it.

Latency at the serving commit. Gold observes its input (`metrics.observe_batch_event_times`, a
Spark-native per-batch metric in the progress JSON): the row count and two event-time quantiles,
`percentile_approx` at 0.5 and 0.01 (exact up to `EVENT_TIME_ACCURACY` rows; beyond, within 1/accuracy of
the rank). The gold writer records when the batch's last sink committed (`GoldBatchWriter.committed_at`:
Azure SQL when the job has it, after the Delta MERGE). Latency p50 = commit - the 0.5 quantile of event
time; p99 = commit - the 0.01 quantile (the 1 % oldest events waited longest). Both are for the events the
batch read, measured when Power BI's source shows them.

SQL serving lag: the serving commit minus the batch's start (`timestamp` of its progress, when gold read
its input): how long a batch takes to be visible in Azure SQL once it started, the part of the latency the
gold job itself adds (Delta MERGE plus SQL upsert on Databricks, the SQLite upsert locally).

Job restarts: every start of a query, and every restart from its checkpoint, has a new run id (PySpark,
StreamingQuery.runId: "every query that is started (or restarted from checkpoint) will have a different
runId"); the rows carry it, so the page counts run ids starting per stage and hour.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

METRICS_TABLE = "pipeline_metrics"
# How long the nightly maintenance job keeps metrics rows (streaming_jobs/maintenance.py): the SLO look-backs
# are at most a day; a month and a few days keeps the previous month whole for its review and DR report.
METRICS_RETENTION_DAYS = 35
QUALITY_VIEW = "v_data_quality"

# The gold input observation (metrics.observe_batch_event_times) and its quantiles of event time.
EVENT_TIME_OBSERVATION = "gold_batch_event_times"
EVENT_TIME_QUANTILES = (0.5, 0.01)  # -> latency p50, latency p99
EVENT_TIME_ACCURACY = 10_000

# The stages the jobs run, by query name (streaming_jobs/manifest.py JOBS[stage].queries).
STAGES = ("bronze", "silver", "gold")


@dataclass(frozen=True)
class MetricColumn:
    name: str
    type: str  # Spark SQL type
    description: str


METRICS_COLUMNS: tuple[MetricColumn, ...] = (
    MetricColumn("stage", "STRING", "bronze, silver or gold"),
    MetricColumn("query_name", "STRING", "the streaming query's name"),
    MetricColumn("query_id", "STRING", "the query's id: the same across restarts from its checkpoint"),
    MetricColumn("run_id", "STRING", "the query run's id: new on every start and restart"),
    MetricColumn("batch_id", "BIGINT", "the micro-batch id"),
    MetricColumn("batch_timestamp", "TIMESTAMP", "when the batch's trigger started"),
    MetricColumn("input_rows", "BIGINT", "rows the batch read"),
    MetricColumn("processed_rows_per_second", "DOUBLE", "input rows over the batch's processing time"),
    MetricColumn("batch_duration_ms", "BIGINT", "the batch's duration"),
    MetricColumn("avg_offsets_behind", "DOUBLE", "Kafka: average offsets behind the latest, over partitions"),
    MetricColumn("max_offsets_behind", "BIGINT", "Kafka: most offsets behind the latest of any partition"),
    MetricColumn("files_behind", "BIGINT", "Delta: files not yet read (numFilesOutstanding)"),
    MetricColumn("bytes_behind", "BIGINT", "Delta: bytes not yet read (numBytesOutstanding)"),
    MetricColumn("serving_commit_time", "TIMESTAMP", "gold: when the batch's last sink (Azure SQL) committed"),
    MetricColumn("serving_lag_seconds", "DOUBLE", "gold: serving commit minus the batch's start"),
    MetricColumn("latency_p50_seconds", "DOUBLE", "gold: median event-time latency at the serving commit"),
    MetricColumn("latency_p99_seconds", "DOUBLE", "gold: p99 event-time latency at the serving commit"),
)
METRICS_COLUMN_NAMES = tuple(c.name for c in METRICS_COLUMNS)
# A DDL schema string for createDataFrame (the local edge and the Delta edge alike).
METRICS_SCHEMA_DDL = ", ".join(f"{c.name} {c.type}" for c in METRICS_COLUMNS)


def create_metrics_table_sql(qualified_schema: str) -> str:
    """`CREATE TABLE IF NOT EXISTS` of the metrics table in `catalog`.`schema` (back-quoted)."""
    # A comment is a SQL string literal: no quote may end it early.
    cols = ", ".join(f"{c.name} {c.type} COMMENT '{c.description.replace(chr(39), '')}'" for c in METRICS_COLUMNS)
    return (
        f"CREATE TABLE IF NOT EXISTS {qualified_schema}.`{METRICS_TABLE}` ({cols}) USING DELTA "
        "COMMENT 'One row per streaming micro-batch: throughput, source backlog, gold latency at serving commit'"
    )


# ----------------------------------------------------------------------------- progress -> row


def _number(value: Any) -> float | None:
    """A source metric: Spark reports them as strings ("12.5", "NaN"); missing or not finite -> None."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _timestamp(text: str) -> datetime:
    """A progress `timestamp` ("2026-12-06T04:35:52.329Z", always UTC) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def ran_a_batch(progress: Mapping[str, Any]) -> bool:
    """A progress of a trigger that ran a batch. An idle trigger also reports progress (repeating the batch
    id, with no `addBatch` duration: Spark's ProgressReporter); it is not a batch."""
    return "addBatch" in (progress.get("durationMs") or {})


def source_backlog(progress: Mapping[str, Any]) -> dict[str, float | int | None]:
    """The backlog the query's sources report: Kafka offsets behind, Delta files and bytes outstanding.
    Several sources: offsets and files add up, the worst partition is the max; none reported: None."""
    avg: list[float] = []
    worst: list[float] = []
    files: list[float] = []
    size: list[float] = []
    for source in progress.get("sources") or []:
        metrics = source.get("metrics") or {}
        for key, into in (
            ("avgOffsetsBehindLatest", avg),
            ("maxOffsetsBehindLatest", worst),
            ("numFilesOutstanding", files),
            ("numBytesOutstanding", size),
        ):
            value = _number(metrics.get(key))
            if value is not None:
                into.append(value)
    return {
        "avg_offsets_behind": sum(avg) if avg else None,
        "max_offsets_behind": int(max(worst)) if worst else None,
        "files_behind": int(sum(files)) if files else None,
        "bytes_behind": int(sum(size)) if size else None,
    }


def event_time_latencies(observed: Mapping[str, Any] | None, commit_epoch: float) -> tuple[float | None, float | None]:
    """(p50, p99) latency in seconds at `commit_epoch` from gold's observed event-time quantiles (epoch ms);
    (None, None) for a batch that read no rows."""
    if not observed or not observed.get("rows"):
        return None, None
    quantiles = observed.get("event_ms_quantiles") or []
    if len(quantiles) != len(EVENT_TIME_QUANTILES) or any(q is None for q in quantiles):
        return None, None
    q50, q01 = (float(q) / 1000.0 for q in quantiles)
    return commit_epoch - q50, commit_epoch - q01


def metrics_row(progress: Mapping[str, Any], stage: str, commit_epoch: float | None = None) -> dict[str, Any]:
    """One `pipeline_metrics` row from a query's progress document (StreamingQueryProgress.json, parsed).

    `commit_epoch` (gold): when the batch's last sink committed, from the gold writer; with it, the row
    carries the serving lag and, when the batch observed its event times, the latency p50/p99."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; stages: {STAGES}")
    started = _timestamp(progress["timestamp"])
    duration = progress.get("batchDuration")
    if duration is None:
        duration = (progress.get("durationMs") or {}).get("triggerExecution")
    row: dict[str, Any] = {
        "stage": stage,
        "query_name": progress.get("name"),
        "query_id": progress["id"],
        "run_id": progress["runId"],
        "batch_id": int(progress["batchId"]),
        "batch_timestamp": started,
        "input_rows": int(progress.get("numInputRows") or 0),
        "processed_rows_per_second": _number(progress.get("processedRowsPerSecond")),
        "batch_duration_ms": int(duration) if duration is not None else None,
        **source_backlog(progress),
        "serving_commit_time": None,
        "serving_lag_seconds": None,
        "latency_p50_seconds": None,
        "latency_p99_seconds": None,
    }
    if commit_epoch is not None:
        row["serving_commit_time"] = datetime.fromtimestamp(commit_epoch, UTC)
        row["serving_lag_seconds"] = commit_epoch - started.timestamp()
        observed = (progress.get("observedMetrics") or {}).get(EVENT_TIME_OBSERVATION)
        row["latency_p50_seconds"], row["latency_p99_seconds"] = event_time_latencies(observed, commit_epoch)
    return row


def as_tuple(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """A row in METRICS_COLUMNS order (what createDataFrame takes with METRICS_SCHEMA_DDL)."""
    return tuple(row[c] for c in METRICS_COLUMN_NAMES)


# ----------------------------------------------------------------------------- the publisher


class MetricsSink(Protocol):
    def append(self, rows: Sequence[Mapping[str, Any]]) -> None: ...


@dataclass
class MetricsPublisher:
    """Turns the progress documents of a job's queries into rows, each batch once, and appends them.

    `stages`: query name -> stage. `commits`: query name -> the gold writer's commit times by batch id
    (GoldBatchWriter.committed_at); a published batch's commit time is dropped from it. Progress documents
    come from the queries' recentProgress (jobs/common.py polls them; Spark keeps the last
    spark.sql.streaming.numRecentProgressUpdates, 100 by default, so a poll every 15 s misses nothing
    below ~6 batches a second)."""

    sink: MetricsSink
    stages: Mapping[str, str]
    commits: dict[str, dict[int, float]] = field(default_factory=dict)
    published: int = 0
    _seen: dict[tuple[str, str], int] = field(default_factory=dict)  # (query id, run id) -> last batch id

    def rows(self, progresses: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The rows of the batches not published yet, in the order given."""
        out: list[dict[str, Any]] = []
        for progress in progresses:
            name = str(progress.get("name"))
            if name not in self.stages or not ran_a_batch(progress):
                continue
            key = (str(progress["id"]), str(progress["runId"]))
            batch_id = int(progress["batchId"])
            if batch_id <= self._seen.get(key, -1):
                continue
            commits = self.commits.get(name)
            commit = commits.pop(batch_id, None) if commits is not None else None
            out.append(metrics_row(progress, self.stages[name], commit))
            self._seen[key] = batch_id
        return out

    def publish(self, progresses: Iterable[Mapping[str, Any]]) -> int:
        rows = self.rows(progresses)
        if rows:
            self.sink.append(rows)
            self.published += len(rows)
        return len(rows)


# ----------------------------------------------------------------------------- the data-quality view

# The view keeps the last day of arrivals: the longest window anything reads (operations.slo.
# latencyWindowMinutes is at most 1440; the pipeline page shows an hour). The bound is on `ingest_time`
# itself, so Delta skips the files outside it.
QUALITY_VIEW_HORIZON_MINUTES = 1440
QUALITY_VIEW_COLUMNS = ("window_start", "window_end", "outcome", "reason", "records")
ACCEPTED, QUARANTINED = "accepted", "quarantined"


def quality_view_select(silver: str, quarantine: str, horizon_minutes: int = QUALITY_VIEW_HORIZON_MINUTES) -> str:
    """The view's query: per minute of bronze arrival, accepted records (reason NULL) and quarantined ones
    by reason. Duplicates silver drops are in neither (the figure is about malformed records)."""
    since = f"`ingest_time` >= current_timestamp() - INTERVAL {int(horizon_minutes)} MINUTES"
    arrivals = (
        f"SELECT date_trunc('MINUTE', `ingest_time`) AS window_start, '{ACCEPTED}' AS outcome, "
        f"CAST(NULL AS STRING) AS reason FROM {silver} WHERE {since} UNION ALL "
        f"SELECT date_trunc('MINUTE', `ingest_time`) AS window_start, '{QUARANTINED}' AS outcome, "
        f"`reason` AS reason FROM {quarantine} WHERE {since}"
    )
    return (
        "SELECT window_start, window_start + INTERVAL 1 MINUTE AS window_end, outcome, reason, "
        f"COUNT(*) AS records FROM ({arrivals}) AS arrivals GROUP BY window_start, outcome, reason"
    )


def quality_view_sql(qualified_schema: str, silver: str, quarantine: str) -> str:
    """`CREATE OR REPLACE VIEW` of the data-quality view in the gold schema (the gold job runs it at start)."""
    return f"CREATE OR REPLACE VIEW {qualified_schema}.`{QUALITY_VIEW}` AS {quality_view_select(silver, quarantine)}"
