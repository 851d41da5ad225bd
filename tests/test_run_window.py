"""Dev's run window (`databricks.jobs.runWindow`): the continuous jobs are paused and cancelled at its end and
resumed at its start by two scheduled jobs; config refuses a broken window and any window in prod."""

from __future__ import annotations

import json
from typing import Any

import pytest
from databricks.sdk.service.jobs import JobSettings

from offline.engine import StackProgramError, run_stack, stack_config_values
from offline.plan import Plan
from stack_config import ConfigError
from stack_config.databricks import RunWindowConfig
from streaming_jobs.config import ConfigError as JobConfigError
from streaming_jobs.jobs import run_window
from streaming_jobs.jobs.common import run as run_entry
from streaming_jobs.manifest import JOBS, RUN_WINDOW_JOB

NS = "rta-platform"
JOB = "databricks:index/job:Job"


class RecordingJobs:
    """The two Jobs API calls, recorded in order (the SDK's `WorkspaceClient().jobs` in a run)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, dict[str, Any] | None]] = []

    def update(self, job_id: int, *, new_settings: JobSettings | None = None) -> None:
        self.calls.append(("update", job_id, new_settings.as_dict() if new_settings else None))

    def cancel_all_runs(self, *, job_id: int | None = None) -> None:
        assert job_id is not None
        self.calls.append(("cancel_all_runs", job_id, None))


PAUSED = {"continuous": {"pause_status": "PAUSED"}}
UNPAUSED = {"continuous": {"pause_status": "UNPAUSED"}}


def test_close_pauses_each_trigger_before_cancelling_its_run() -> None:
    jobs = RecordingJobs()
    run_window.apply_window(jobs, "close", [11, 12])
    # The request bodies the SDK sends: a partial update of the trigger only, then cancel-all.
    assert jobs.calls == [
        ("update", 11, PAUSED),
        ("cancel_all_runs", 11, None),
        ("update", 12, PAUSED),
        ("cancel_all_runs", 12, None),
    ]


def test_open_only_unpauses_the_triggers() -> None:
    jobs = RecordingJobs()
    run_window.apply_window(jobs, "open", [11, 12])
    assert jobs.calls == [("update", 11, UNPAUSED), ("update", 12, UNPAUSED)]


@pytest.mark.parametrize("text", ["", "12,abc", " , "])
def test_bad_job_ids_are_a_config_error(text: str) -> None:
    with pytest.raises(JobConfigError, match="--job-ids"):
        run_window.parse_job_ids(text)


def test_the_entry_refuses_an_unknown_action_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_entry([RUN_WINDOW_JOB.key, "--action", "pause", "--job-ids", "1"]) == 2
    assert "--action" in capsys.readouterr().err


# ----------------------------------------------------------------------------- config


def _jobs_section(**window: Any) -> dict[str, Any]:
    values, _ = stack_config_values("dev")
    databricks = json.loads(values[f"{NS}:databricks"])
    databricks["jobs"]["runWindow"] = {**databricks["jobs"]["runWindow"], **window}
    return {f"{NS}:databricks": databricks}


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ({"start": "19:00", "end": "07:00"}, "start 19:00 must be before end 07:00"),
        ({"start": "7:00"}, "databricks.jobs.runWindow.start"),
        ({"timezone": "Mars/Olympus"}, "timezone 'Mars/Olympus' is not an IANA time zone"),
        ({"days": ["MON", "MON"]}, "days has duplicates"),
        ({"days": ["MONDAY"]}, "databricks.jobs.runWindow.days"),
        ({"start": "07:15", "end": "07:55"}, "07:15-07:55 holds no whole clock hour"),
    ],
)
def test_a_broken_window_is_refused_naming_the_key(window: dict[str, Any], expected: str) -> None:
    with pytest.raises(StackProgramError) as info:
        run_stack("dev", preview=True, config_overrides=_jobs_section(**window))
    assert isinstance(info.value.cause, ConfigError)
    assert expected in str(info.value.cause)
    assert info.value.registered == 0


def test_prod_refuses_a_run_window() -> None:
    values, _ = stack_config_values("prod")
    databricks = json.loads(values[f"{NS}:databricks"])
    databricks["jobs"]["runWindow"] = {"start": "07:00", "end": "19:00"}
    with pytest.raises(StackProgramError) as info:
        run_stack("prod", preview=True, config_overrides={f"{NS}:databricks": databricks})
    assert "databricks.jobs.runWindow pauses the streaming jobs" in str(info.value.cause)


# ----------------------------------------------------------------------------- the plan


def _window_config() -> dict[str, Any]:
    values, _ = stack_config_values("dev")
    window: dict[str, Any] = json.loads(values[f"{NS}:databricks"])["jobs"]["runWindow"]
    return window


def _params(job: Any) -> list[str]:
    return list(job.inputs["tasks"][0]["sparkPythonTask"]["parameters"])


def test_dev_schedules_the_window_over_every_continuous_job(dev_plan: Plan) -> None:
    window = _window_config()
    jobs = {j.inputs["name"]: j for j in dev_plan.of_type(JOB)}
    continuous = [j for j in jobs.values() if "continuous" in j.inputs]
    assert sorted(_params(j)[0] for j in continuous) == sorted(JOBS)
    ids = ",".join(j.id or "" for j in continuous)
    for action, clock in (("open", window["start"]), ("close", window["end"])):
        job = jobs[f"rta-dev-run-window-{action}"]
        hours, minutes = clock.split(":")
        schedule = job.inputs["schedule"]
        assert schedule["quartzCronExpression"] == f"0 {int(minutes)} {int(hours)} ? * {','.join(window['days'])}"
        assert schedule["timezoneId"] == window["timezone"] and schedule["pauseStatus"] == "UNPAUSED"
        params = _params(job)
        assert params[:3] == [RUN_WINDOW_JOB.key, "--action", action]
        assert sorted(params[4].split(",")) == sorted(ids.split(","))
        assert "continuous" not in job.inputs and job.inputs["runAs"] == continuous[0].inputs["runAs"]
    for job in continuous:
        # The window owns the pause status: `pulumi up` must not set it back.
        assert job.options.get("ignoreChanges") == ["continuous.pauseStatus"]


def test_the_window_principal_may_manage_exactly_the_continuous_jobs(dev_plan: Plan) -> None:
    principal = next(j for j in dev_plan.of_type(JOB) if "continuous" in j.inputs).inputs["runAs"]
    managed = [
        p
        for p in dev_plan.of_type("databricks:index/permissions:Permissions")
        if any(
            a.get("permissionLevel") == "CAN_MANAGE"
            and a.get("servicePrincipalName") == principal["servicePrincipalName"]
            for a in p.inputs.get("accessControls") or []
        )
    ]
    assert sorted(p.name for p in managed) == sorted(f"streaming-jobs-{k}-permissions" for k in JOBS)


def test_without_a_window_the_jobs_stream_around_the_clock(prod_plan: Plan) -> None:
    names = [j.inputs["name"] for j in prod_plan.of_type(JOB)]
    assert not [n for n in names if "run-window" in n]
    assert all(not j.options.get("ignoreChanges") for j in prod_plan.of_type(JOB))


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [("07:00", "19:00", "7-18"), ("07:30", "19:15", "8-18"), ("07:00", "08:00", "7"), ("06:59", "08:00", "7")],
)
def test_the_alerts_evaluate_in_the_windows_whole_hours(start: str, end: str, hours: str) -> None:
    window = RunWindowConfig(days=("MON", "FRI"), start=start, end=end, timezone="Europe/Amsterdam")
    assert window.alert_cron(5) == f"0 0/5 {hours} ? * MON,FRI"


def test_dev_alerts_evaluate_only_inside_the_window(dev_plan: Plan) -> None:
    """Outside the window the jobs are paused: the alerts are not scheduled, so they neither fire on a gold
    that is stale by design nor keep the SQL warehouse up (docs/operations.md, "Run window")."""
    window = _window_config()
    start, end = (int(window[k].split(":")[0]) for k in ("start", "end"))
    interval = json.loads(stack_config_values("dev")[0][f"{NS}:dashboards"])["alertIntervalMinutes"]
    alerts = dev_plan.of_type("databricks:index/alertV2:AlertV2")
    assert alerts
    for alert in alerts:
        schedule = alert.inputs["schedule"]
        _sec, minute, hour, _dom, _month, days = schedule["quartzCronSchedule"].split()
        assert (hour, days) == (f"{start}-{end - 1}", ",".join(window["days"])), alert.name
        assert minute == f"0/{interval}" and schedule["timezoneId"] == window["timezone"]
