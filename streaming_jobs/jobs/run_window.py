"""The run window of the continuous streaming jobs (`databricks.jobs.runWindow`, dev's cost guard rail).

Two scheduled jobs run this at the window's start (`--action open`) and end (`--action close`):

- close: pause each continuous job's trigger, then cancel its active run. Pausing alone is not enough:
  "When you pause a trigger, any currently active runs continue" (learn.microsoft.com/azure/databricks/
  jobs/schedule-jobs, "Pause and resume job triggers"), and a streaming run never ends by itself.
- open: unpause the trigger; the continuous trigger starts a run "if there is no instance of the job
  currently running", within about 60 seconds (learn.microsoft.com/azure/databricks/jobs/continuous).

Each restarted run resumes from its checkpoints, as after any failure: the jobs are exactly-once across
restarts (tests/streaming/test_restart.py). The calls are the Jobs API's `jobs/update` (only `continuous`,
a partial update) and `jobs/runs/cancel-all` (docs.databricks.com/api/workspace/jobs/update,
.../jobs/cancelallruns), made with the Databricks SDK for Python, which Databricks Runtime ships and which
authenticates as the run's identity inside a job run (docs.databricks.com/dev-tools/sdk-python).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from streaming_jobs.config import ConfigError
from streaming_jobs.jobs.common import JobArgumentParser

if TYPE_CHECKING:
    from databricks.sdk.service.jobs import JobSettings

log = logging.getLogger("streaming_jobs.run_window")

ACTIONS = ("open", "close")


class JobsApi(Protocol):
    """The two calls of the SDK's `WorkspaceClient().jobs` this job makes."""

    def update(self, job_id: int, *, new_settings: JobSettings | None = None) -> None: ...

    def cancel_all_runs(self, *, job_id: int | None = None) -> None: ...


def window_settings(action: str) -> JobSettings:
    """The partial job settings `jobs/update` applies: only the continuous trigger's pause status."""
    from databricks.sdk.service.jobs import Continuous, JobSettings, PauseStatus

    if action not in ACTIONS:
        raise ConfigError(f"--action must be one of {', '.join(ACTIONS)}, got {action!r}")
    status = PauseStatus.UNPAUSED if action == "open" else PauseStatus.PAUSED
    return JobSettings(continuous=Continuous(pause_status=status))


def apply_window(jobs: JobsApi, action: str, job_ids: Sequence[int]) -> None:
    """Opens or closes the window for every job; on close the trigger is paused before the run is
    cancelled, so the continuous trigger cannot start a new run in between."""
    settings = window_settings(action)
    for job_id in job_ids:
        jobs.update(job_id, new_settings=settings)
        if action == "close":
            jobs.cancel_all_runs(job_id=job_id)
        log.info("run window %s: job %s", action, job_id)


def parse_job_ids(text: str) -> list[int]:
    """`--job-ids 123,456`: the continuous jobs' ids, as the stack passes them."""
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"--job-ids must be comma-separated job ids, got {text!r}") from None
    if not ids:
        raise ConfigError("--job-ids names no job")
    return ids


def main(argv: Sequence[str]) -> None:
    parser = JobArgumentParser(prog="run_window")
    parser.add_argument("--action", required=True, choices=ACTIONS)
    parser.add_argument("--job-ids", required=True)
    args = parser.parse_args(list(argv))
    job_ids = parse_job_ids(args.job_ids)
    from databricks.sdk import WorkspaceClient

    apply_window(WorkspaceClient().jobs, args.action, job_ids)
