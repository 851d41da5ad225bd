"""The contract between the stack and the job code.

The stack (components/databricks_jobs.py) reads this module -- it imports no
Spark -- to know which files to upload, which entry file each Databricks job
runs and which parameters it must pass. Keeping it beside the jobs means a job
that gains a parameter changes one place that both sides read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The one spark_python_task file every job runs: `python <ENTRY_FILE> <job key> --param value ...`.
ENTRY_FILE = "streaming_jobs/entrypoints/run_job.py"


@dataclass(frozen=True)
class JobSpec:
    """One Databricks job: its key (the entry file's first parameter), code and parameters."""

    key: str
    module: str  # the module whose main(argv) runs the job
    description: str
    required_params: tuple[str, ...]
    optional_params: tuple[str, ...] = field(default=())
    # Stable query names: each one owns the checkpoint <checkpoint-root>/<query>.
    # Never derive them from code versions or deploy ids.
    queries: tuple[str, ...] = field(default=())
    # Keeps streaming state (de-duplication, windows): its cluster gets the RocksDB state store in spark_conf.
    stateful: bool = False
    # Runs on Photon (runtime_engine PHOTON): only where Photon runs the work and it pays for its higher DBU
    # rate (docs/capacity.md, "Per-stage compute"). Photon runs stateless streaming only, and no Python UDFs.
    photon: bool = False

    @property
    def entry_file(self) -> str:
        """Path relative to the repository root: the same for every job."""
        return ENTRY_FILE

    def task_parameters(self, params: list[Any]) -> list[Any]:
        """The spark_python_task parameters: the job's key, then its own."""
        return [self.key, *params]


JOBS: dict[str, JobSpec] = {
    "bronze": JobSpec(
        key="bronze",
        module="streaming_jobs.jobs.bronze",
        description="Kafka endpoint (Event Hubs or Confluent) -> bronze Delta, raw payload kept",
        required_params=(
            "--catalog",
            "--bronze-schema",
            "--checkpoint-root",
            "--kafka-bootstrap-servers",
            "--kafka-topic",
            "--kafka-auth",
            "--kafka-group-id-prefix",
        ),
        optional_params=(
            "--service-credential",
            "--secret-scope",
            "--api-key-secret",
            "--api-secret-secret",
            "--starting-offsets",
            "--max-offsets-per-trigger",
            "--trigger-interval",
            # The schema of the pipeline_metrics table every job publishes to (ops_metrics.py): gold's.
            "--metrics-schema",
        ),
        queries=("bronze_trades",),
    ),
    "silver": JobSpec(
        key="silver",
        module="streaming_jobs.jobs.silver",
        description="bronze -> silver trades (parsed, validated, de-duplicated) + quarantine",
        required_params=(
            "--catalog",
            "--bronze-schema",
            "--silver-schema",
            "--checkpoint-root",
            "--symbols",
            "--watermark",
        ),
        optional_params=(
            "--sides",
            "--max-future-skew",
            "--max-price",
            "--max-quantity",
            "--max-files-per-trigger",
            "--trigger-interval",
            "--metrics-schema",
        ),
        # One query writes both tables, so each record is parsed and validated once.
        queries=("silver_cleanse",),
        stateful=True,  # dropDuplicatesWithinWatermark
    ),
    "gold": JobSpec(
        key="gold",
        module="streaming_jobs.jobs.gold",
        description="silver -> gold aggregates + alerts, upserted per batch into Azure SQL",
        required_params=(
            "--catalog",
            "--silver-schema",
            "--gold-schema",
            "--checkpoint-root",
            "--window",
            "--alert-rules",
        ),
        optional_params=(
            "--sql-server",
            "--sql-database",
            # Same values as the silver job's: gold keeps window state for watermark + skew.
            "--watermark",
            "--max-future-skew",
            # The Unity Catalog service credential whose identity gets the Azure SQL token.
            "--service-credential",
            "--sql-migrate",
            "--max-files-per-trigger",
            "--trigger-interval",
            "--metrics-schema",
        ),
        queries=("gold_metrics",),
        stateful=True,  # event-time windows
    ),
}

# Run on demand, never continuously: checks that a job cluster like the streaming jobs' runs the Spark line,
# APIs and settings the tests ran, and passes a few events through bronze -> silver -> gold on a scratch
# schema (streaming_jobs/jobs/smoke.py).
SMOKE_JOB = JobSpec(
    key="runtime_smoke",
    module="streaming_jobs.jobs.smoke",
    description="runtime smoke test: Spark line, APIs, settings, one availableNow bronze -> silver -> gold pass",
    required_params=("--catalog", "--scratch-schema", "--checkpoint-root"),
    optional_params=("--timeout-seconds",),
    stateful=True,  # runs silver's and gold's code
)

# Scheduled (nightly), never continuous: Delta table properties, liquid clustering and OPTIMIZE, bronze
# hot -> cold and VACUUM (streaming_jobs/maintenance.py, jobs/maintenance.py; docs/capacity.md).
MAINTENANCE_JOB = JobSpec(
    key="delta_maintenance",
    module="streaming_jobs.jobs.maintenance",
    description="Delta maintenance: table properties, clustering + OPTIMIZE, bronze hot -> cold, VACUUM",
    required_params=(
        "--catalog",
        "--bronze-schema",
        "--silver-schema",
        "--gold-schema",
        "--hot-days",
        "--cold-days",
        "--vacuum-hours",
        "--stream-retention-hours",
    ),
    # MERGE, DELETE and OPTIMIZE on Delta tables with deletion vectors: what Photon accelerates.
    photon=True,
)

# Scheduled at a non-prod stack's run window start and end (`databricks.jobs.runWindow`): resumes or pauses
# the continuous jobs through the Jobs API (streaming_jobs/jobs/run_window.py). No Spark work.
RUN_WINDOW_JOB = JobSpec(
    key="run_window",
    module="streaming_jobs.jobs.run_window",
    description="run window: resume (open) or pause and cancel (close) the continuous streaming jobs",
    required_params=("--action", "--job-ids"),
)

# VACUUM's retention (the stack computes it; streaming_jobs/maintenance.py refuses less): above Delta's
# 168-hour check and the trades stream's retention on the broker, the longest a reader or checkpoint can lag
# and still resume without loss, plus one maintenance interval (the job runs nightly).
MIN_VACUUM_HOURS = 168
VACUUM_MARGIN_HOURS = 24


def vacuum_hours_for(stream_retention_hours: int | None) -> int:
    """VACUUM retention for a stream the broker keeps `stream_retention_hours` (None: forever, no bound)."""
    return max(MIN_VACUUM_HOURS, stream_retention_hours or 0) + VACUUM_MARGIN_HOURS


# Every job the stack deploys, by key (the entry file dispatches on it).
ALL_JOBS: dict[str, JobSpec] = {s.key: s for s in (*JOBS.values(), SMOKE_JOB, MAINTENANCE_JOB, RUN_WINDOW_JOB)}
