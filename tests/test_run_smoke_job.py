"""tools/run_smoke_job.py: the deploy pipeline's verdict on the runtime smoke job, against a fake Jobs API."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from streaming_jobs.manifest import SMOKE_JOB

ROOT = Path(__file__).resolve().parents[1]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_smoke_job", ROOT / "tools" / "run_smoke_job.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _tool()


class FakeJobsApi:
    """run-now, then `states` one runs/get at a time; records every call."""

    def __init__(self, states: list[dict[str, Any]], error: str = "") -> None:
        self.states = states
        self.error = error
        self.calls: list[tuple[str, str, dict[str, Any] | None]] = []

    def __call__(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        self.calls.append((method, path, body))
        if path.endswith("/run-now"):
            return {"run_id": 77}
        if "/runs/get?" in path:
            state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
            return {"state": state, "tasks": [{"run_id": 78, "task_key": SMOKE_JOB.key}], "run_page_url": "u"}
        if "/runs/get-output?" in path:
            return {"error": self.error, "error_trace": "Traceback ..."}
        return {}


def test_the_job_key_is_the_manifests() -> None:
    assert SMOKE_JOB.key == tool.SMOKE_JOB_KEY


def test_the_job_and_workspace_come_from_the_stack_outputs() -> None:
    outputs = {"databricksWorkspaceUrl": "adb-1.2.azuredatabricks.net", "databricksJobIds": {SMOKE_JOB.key: "42"}}
    assert tool.job_from_outputs(outputs) == ("https://adb-1.2.azuredatabricks.net", 42)
    with pytest.raises(tool.SmokeRunError, match="no 'runtime_smoke' job"):
        tool.job_from_outputs({"databricksWorkspaceUrl": "x", "databricksJobIds": {"bronze": "1"}})
    with pytest.raises(tool.SmokeRunError, match="no databricksWorkspaceUrl"):
        tool.job_from_outputs({})


def test_a_passing_run_passes(capsys: pytest.CaptureFixture[str]) -> None:
    api = FakeJobsApi([{"life_cycle_state": "RUNNING"}, {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"}])
    assert tool.wait_for(api, 42, timeout_s=100, poll_s=1, sleep=lambda _: None) == 0
    assert api.calls[0] == ("POST", "/api/2.1/jobs/run-now", {"job_id": 42})
    assert not any("get-output" in c[1] for c in api.calls)


def test_a_failed_run_fails_and_prints_what_the_smoke_job_found(capsys: pytest.CaptureFixture[str]) -> None:
    error = "SmokeTestError: runtime smoke test failed (1 problems):\n- spark.sql.ansi.enabled is 'false'"
    api = FakeJobsApi(
        [{"life_cycle_state": "TERMINATED", "result_state": "FAILED", "state_message": "Task failed"}], error
    )
    assert tool.wait_for(api, 42, timeout_s=100, poll_s=1, sleep=lambda _: None) == 1
    out = capsys.readouterr().out
    assert "spark.sql.ansi.enabled is 'false'" in out and "::error::" in out


def test_a_run_that_never_ends_is_cancelled_and_fails() -> None:
    api = FakeJobsApi([{"life_cycle_state": "RUNNING"}])
    assert tool.wait_for(api, 42, timeout_s=3, poll_s=1, sleep=lambda _: None) == 1
    assert ("POST", "/api/2.1/jobs/runs/cancel", {"run_id": 77}) in api.calls


def test_unreadable_outputs_are_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "outputs.json"
    bad.write_text(json.dumps({"databricksJobIds": {}}))
    assert tool.main(["--outputs", str(bad)]) == 2
    assert "no databricksWorkspaceUrl output" in capsys.readouterr().err
