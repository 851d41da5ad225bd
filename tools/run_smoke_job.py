"""Run the stack's runtime smoke job once and wait for its verdict (the deploy pipeline, after `pulumi up`).

    pulumi stack output --stack dev --json > outputs.json
    .venv/bin/python tools/run_smoke_job.py --outputs outputs.json

The job id and workspace URL come from the stack's outputs (`databricksJobIds["runtime_smoke"]`,
`databricksWorkspaceUrl`). The call is made with an Entra ID token for the AzureDatabricks application
(2ff814a6-3304-4ab8-85cb-cd0e6f879c1d) from tools/ci_credential.py: on GitHub Actions the workflow's OIDC token
exchanged for the deployment identity (ARM_TENANT_ID, ARM_CLIENT_ID), elsewhere DefaultAzureCredential.
The identity that deployed the job owns it and so may run it.

Jobs API 2.1 (https://docs.databricks.com/api/azure/workspace/jobs): `run-now`, then `runs/get` until the
run's life_cycle_state is terminal; a run whose result_state is not SUCCESS fails this command, printing
each task's error from `runs/get-output` (the smoke job lists every problem it found).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

SMOKE_JOB_KEY = "runtime_smoke"
DATABRICKS_SCOPE = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d/.default"
TERMINAL = {"TERMINATED", "SKIPPED", "INTERNAL_ERROR"}

Api = Callable[[str, str, dict[str, Any] | None], dict[str, Any]]


class SmokeRunError(RuntimeError):
    pass


def job_from_outputs(outputs: dict[str, Any]) -> tuple[str, int]:
    """(workspace URL, smoke job id) from `pulumi stack output --json`."""
    url = outputs.get("databricksWorkspaceUrl")
    jobs = outputs.get("databricksJobIds") or {}
    if not url:
        raise SmokeRunError("the stack has no databricksWorkspaceUrl output: no Databricks layer to smoke-test")
    if SMOKE_JOB_KEY not in jobs:
        raise SmokeRunError(f"the stack's databricksJobIds output has no {SMOKE_JOB_KEY!r} job: {sorted(jobs)}")
    host = url if url.startswith("https://") else f"https://{url}"
    return host.rstrip("/"), int(jobs[SMOKE_JOB_KEY])


def outcome(run: dict[str, Any]) -> tuple[bool, str] | None:
    """None while the run is going; else (passed, one line on its state)."""
    state = run.get("state") or {}
    life = state.get("life_cycle_state", "")
    if life not in TERMINAL:
        return None
    result = state.get("result_state", "")
    message = state.get("state_message", "")
    return result == "SUCCESS", f"{life} {result}: {message}".strip()


def wait_for(
    api: Api, job_id: int, timeout_s: float, poll_s: float = 20.0, sleep: Callable[[float], None] = time.sleep
) -> int:
    """Start the job, wait for the end of its run; 0 if it passed. Every failed task's error is printed."""
    run_id = api("POST", "/api/2.1/jobs/run-now", {"job_id": job_id})["run_id"]
    print(f"started run {run_id} of job {job_id}", flush=True)
    waited = 0.0
    while True:
        run = api("GET", f"/api/2.1/jobs/runs/get?run_id={run_id}", None)
        verdict = outcome(run)
        if verdict is not None:
            break
        if waited >= timeout_s:
            api("POST", "/api/2.1/jobs/runs/cancel", {"run_id": run_id})
            print(f"::error::runtime smoke run {run_id} did not finish within {timeout_s:.0f} s; cancelled")
            return 1
        sleep(poll_s)
        waited += poll_s
    passed, line = verdict
    print(f"run {run_id}: {line} ({run.get('run_page_url', '')})")
    if passed:
        return 0
    for task in run.get("tasks", []):
        output = api("GET", f"/api/2.1/jobs/runs/get-output?run_id={task['run_id']}", None)
        error = output.get("error") or ""
        print(f"::error::runtime smoke task {task.get('task_key')}: {error}")
        if output.get("error_trace"):
            print(output["error_trace"])
    return 1


def http_api(host: str, credential: Any) -> Api:
    def call(method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        token = credential.get_token(DATABRICKS_SCOPE).token
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"{host}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=60) as resp:
            result: dict[str, Any] = json.load(resp)
            return result

    return call


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--outputs", required=True, help="`pulumi stack output --json` of the deployed stack")
    p.add_argument("--timeout-minutes", type=float, default=45.0)
    args = p.parse_args(argv)
    try:
        host, job_id = job_from_outputs(json.loads(Path(args.outputs).read_text()))
    except (OSError, ValueError, SmokeRunError) as exc:
        print(f"error: {args.outputs}: {exc}", file=sys.stderr)
        return 2
    from ci_credential import CredentialError, ci_credential  # tools/ci_credential.py (tools/ is sys.path[0])

    try:
        credential = ci_credential()
    except CredentialError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return wait_for(http_api(host, credential), job_id, args.timeout_minutes * 60)


if __name__ == "__main__":
    sys.exit(main())
