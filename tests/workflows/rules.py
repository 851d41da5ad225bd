"""Structural rules for the GitHub Actions workflows, shared by the tests.

Each ``check_*`` function takes a parsed workflow and returns a list of
human-readable problems (empty when the workflow complies). The tests run the
checks over ``.github/workflows/`` (expecting no problems) and over the
deliberately broken fixture (expecting specific problems, so a check that
silently stops checking is noticed).

actionlint (tests/workflows/test_actionlint.py) covers syntax, expressions,
``needs`` and runner labels; these rules cover the delivery policy that
actionlint knows nothing about: SHA pinning, OIDC-only authentication,
``id-token`` scoping, per-stack concurrency and the prod gate.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# PyYAML ships no type information and the project does not install stubs;
# load it dynamically so the type checker treats it as Any.
yaml: Any = importlib.import_module("yaml")

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS_DIR = ROOT / ".github" / "workflows"
FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
BROKEN_FIXTURE = FIXTURES_DIR / "broken.yml"

#: Every Pulumi stack of the project (the PR previews all of them).
STACKS = ("dev", "prod", "confluent", "scale")
#: The stacks deployed on merge to main, in order.
DEPLOYED_STACKS = ("dev", "prod")

SHA_RE = re.compile(r"^[0-9a-f]{40}$")
VERSION_COMMENT_RE = re.compile(r"^v?\d+(\.\d+)*([-+][0-9A-Za-z.-]+)?$")
USES_LINE_RE = re.compile(r"""^\s*(?:-\s+)?uses:\s*["']?(?P<ref>[^\s"'#]+)["']?\s*(?:\#\s*(?P<comment>.*?))?\s*$""")
CLIENT_SECRET_RE = re.compile(r"client[_-]?secret", re.IGNORECASE)
ARM_VARS = ("ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID")


@dataclass(frozen=True)
class Workflow:
    path: Path
    text: str
    doc: dict[Any, Any]

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def jobs(self) -> dict[str, dict[str, Any]]:
        jobs = self.doc.get("jobs") or {}
        return {str(k): v for k, v in jobs.items()}

    @property
    def triggers(self) -> dict[str, Any]:
        # YAML 1.1 (PyYAML) reads the bare key `on` as the boolean True.
        on = self.doc.get("on", self.doc.get(True))
        if isinstance(on, str):
            return {on: None}
        if isinstance(on, list):
            return {str(t): None for t in on}
        return dict(on or {})


def load_workflow(path: Path) -> Workflow:
    text = path.read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    if not isinstance(doc, dict):
        raise TypeError(f"{path}: not a YAML mapping")
    return Workflow(path=path, text=text, doc=doc)


def workflow_files() -> list[Path]:
    return sorted(p for p in WORKFLOWS_DIR.iterdir() if p.suffix in (".yml", ".yaml"))


def all_workflows() -> list[Workflow]:
    return [load_workflow(p) for p in workflow_files()]


# --------------------------------------------------------------------------
# Accessors


def iter_uses(wf: Workflow) -> Iterator[tuple[str, str]]:
    """(job id, action reference) for job-level and step-level ``uses``."""
    for job_id, job in wf.jobs.items():
        if "uses" in job:
            yield job_id, str(job["uses"])
        for step in job.get("steps") or []:
            if "uses" in step:
                yield job_id, str(step["uses"])


def pulumi_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in job.get("steps") or [] if str(s.get("uses", "")).startswith("pulumi/actions@")]


def pulumi_commands(job: dict[str, Any]) -> set[str]:
    return {str((s.get("with") or {}).get("command", "")) for s in pulumi_steps(job)}


def is_up_job(job: dict[str, Any]) -> bool:
    return "up" in pulumi_commands(job) or "update" in pulumi_commands(job)


def is_preview_job(job: dict[str, Any]) -> bool:
    return "preview" in pulumi_commands(job)


def matrix_stacks(job: dict[str, Any]) -> set[str]:
    matrix = (job.get("strategy") or {}).get("matrix") or {}
    stacks = {str(s) for s in matrix.get("stack") or []}
    stacks |= {str(e["stack"]) for e in matrix.get("include") or [] if "stack" in e}
    return stacks


def stacks_of(job: dict[str, Any]) -> set[str]:
    """The stacks a job's pulumi steps operate on."""
    found: set[str] = set()
    for step in pulumi_steps(job):
        name = str((step.get("with") or {}).get("stack-name", ""))
        if "matrix.stack" in name:
            found |= matrix_stacks(job)
        else:
            found |= {s for s in STACKS if re.search(rf"(?<![\w-]){re.escape(s)}(?![\w-])", name)}
            if not found and name:
                found.add(name)
    return found


def environment_name(job: dict[str, Any]) -> str | None:
    env = job.get("environment")
    if isinstance(env, dict):
        return str(env.get("name")) if env.get("name") is not None else None
    return None if env is None else str(env)


def needs_of(job: dict[str, Any]) -> list[str]:
    needs = job.get("needs") or []
    return [needs] if isinstance(needs, str) else [str(n) for n in needs]


def runs_on_labels(job: dict[str, Any]) -> list[str]:
    runs_on = job.get("runs-on")
    if isinstance(runs_on, str):
        return [runs_on]
    if isinstance(runs_on, list):
        return [str(x) for x in runs_on]
    if isinstance(runs_on, dict):
        return [str(x) for x in runs_on.get("labels") or []]
    return []


def env_maps(wf: Workflow) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every ``env`` mapping: (where, mapping)."""
    if isinstance(wf.doc.get("env"), dict):
        yield "workflow", wf.doc["env"]
    for job_id, job in wf.jobs.items():
        if isinstance(job.get("env"), dict):
            yield f"job {job_id}", job["env"]
        for i, step in enumerate(job.get("steps") or []):
            if isinstance(step.get("env"), dict):
                yield f"job {job_id} step {i + 1}", step["env"]


def job_env(job: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = dict(job.get("env") or {})
    for step in job.get("steps") or []:
        merged.update(step.get("env") or {})
    return merged


def uses_oidc(job: dict[str, Any]) -> bool:
    return str(job_env(job).get("ARM_USE_OIDC", "")).lower() == "true"


def grants_id_token(permissions: Any) -> bool:
    if permissions == "write-all":
        return True
    return isinstance(permissions, dict) and permissions.get("id-token") == "write"


def run_scripts(job: dict[str, Any]) -> str:
    return "\n".join(str(s.get("run", "")) for s in job.get("steps") or [])


def concurrency_of(node: dict[str, Any]) -> tuple[str | None, bool | None]:
    c = node.get("concurrency")
    if c is None:
        return None, None
    if isinstance(c, str):
        return c, False
    cancel = c.get("cancel-in-progress")
    return str(c.get("group")), (cancel if isinstance(cancel, bool) else None)


# --------------------------------------------------------------------------
# Checks


def check_pinned_actions(wf: Workflow) -> list[str]:
    """Remote actions pinned to a full commit SHA, with a version comment."""
    problems: list[str] = []
    refs = list(dict.fromkeys(ref for _, ref in iter_uses(wf)))
    lines: dict[str, list[str | None]] = {}
    for line in wf.text.splitlines():
        m = USES_LINE_RE.match(line)
        if m:
            lines.setdefault(m["ref"], []).append(m["comment"])
    for ref in refs:
        if ref.startswith("./"):
            continue  # local action or reusable workflow: versioned with the repo
        if ref.startswith("docker://"):
            if "@sha256:" not in ref:
                problems.append(f"{ref}: docker image not pinned by digest")
            continue
        _, _, version = ref.partition("@")
        if not SHA_RE.match(version):
            problems.append(f"{ref}: not pinned to a full 40-hex commit SHA")
            continue
        comments = lines.get(ref)
        if not comments:
            problems.append(f"{ref}: `uses:` not found on its own line (cannot read its version comment)")
        elif not all(c and VERSION_COMMENT_RE.match(c.split()[0]) for c in comments):
            problems.append(f"{ref}: missing `# vX.Y.Z` version comment after the SHA")
    return problems


def check_no_client_secret(wf: Workflow) -> list[str]:
    """Azure authentication is OIDC only: no client secret, no creds JSON."""
    problems = [
        f"line {n}: mentions a client secret: {line.strip()}"
        for n, line in enumerate(wf.text.splitlines(), start=1)
        if CLIENT_SECRET_RE.search(line)
    ]
    for job_id, job in wf.jobs.items():
        for step in job.get("steps") or []:
            if "creds" in (step.get("with") or {}):
                problems.append(f"job {job_id}: `creds:` (service principal JSON with a secret)")
    return problems


def check_oidc_permissions(wf: Workflow) -> list[str]:
    """`id-token: write` exactly on the jobs that authenticate with OIDC."""
    problems: list[str] = []
    if grants_id_token(wf.doc.get("permissions")):
        problems.append("workflow-level permissions grant id-token: write (grant it per job)")
    if "permissions" not in wf.doc:
        problems.append("no workflow-level permissions (default token scope is too wide)")
    for job_id, job in wf.jobs.items():
        granted = grants_id_token(job.get("permissions"))
        oidc = uses_oidc(job)
        if granted and not oidc:
            problems.append(f"job {job_id}: id-token: write but does not use OIDC (ARM_USE_OIDC)")
        if oidc and not granted:
            problems.append(f"job {job_id}: uses OIDC but lacks permissions id-token: write")
    return problems


def check_arm_settings(wf: Workflow) -> list[str]:
    """ARM_* identifiers come from variables (not secret); the Pulumi token from a secret."""
    problems: list[str] = []
    for where, env in env_maps(wf):
        for key in ARM_VARS:
            if key in env and not re.fullmatch(rf"\$\{{\{{\s*vars\.{key}\s*\}}\}}", str(env[key])):
                problems.append(f"{where}: {key} must be ${{{{ vars.{key} }}}}, got {env[key]!r}")
        if "ARM_CLIENT_ID" in env and str(env.get("ARM_USE_OIDC", "")).lower() != "true":
            problems.append(f"{where}: ARM_CLIENT_ID without ARM_USE_OIDC: 'true'")
        token = env.get("PULUMI_ACCESS_TOKEN")
        if token is not None and not re.fullmatch(r"\$\{\{\s*secrets\.PULUMI_ACCESS_TOKEN\s*\}\}", str(token)):
            problems.append(f"{where}: PULUMI_ACCESS_TOKEN must come from secrets.PULUMI_ACCESS_TOKEN")
    return problems


def check_up_concurrency(workflows: list[Workflow]) -> list[str]:
    """Each `up` job holds a per-stack group that is never cancelled in progress.

    Also: no other job or workflow shares an `up` group (GitHub cancels the
    *pending* member of a group when another joins, so a preview sharing the
    group could evict a queued deploy), and a workflow containing `up` jobs
    has no workflow-level cancel-in-progress.
    """
    problems: list[str] = []
    up_groups: dict[str, str] = {}
    other_groups: dict[str, str] = {}
    for wf in workflows:
        wf_group, wf_cancel = concurrency_of(wf.doc)
        if wf_group is not None:
            other_groups[wf_group] = f"{wf.name} (workflow level)"
        has_up = False
        for job_id, job in wf.jobs.items():
            group, cancel = concurrency_of(job)
            where = f"{wf.name} job {job_id}"
            if not is_up_job(job):
                if group is not None:
                    other_groups[group] = where
                continue
            has_up = True
            stacks = stacks_of(job)
            if group is None:
                problems.append(f"{where}: `up` without a job-level concurrency group")
                continue
            if cancel is not False:
                problems.append(f"{where}: `up` concurrency must set cancel-in-progress: false")
            for stack in stacks:
                keyed = "matrix.stack" in group if len(stacks) > 1 else re.search(rf"\b{re.escape(stack)}\b", group)
                if not keyed:
                    problems.append(f"{where}: concurrency group {group!r} is not keyed by stack {stack!r}")
            if group in up_groups and up_groups[group] != where and len(stacks) == 1:
                problems.append(f"{where}: concurrency group {group!r} also used by {up_groups[group]}")
            up_groups[group] = where
        if has_up and wf_cancel:
            problems.append(f"{wf.name}: workflow-level cancel-in-progress would cancel a running `up`")
    for group, where in other_groups.items():
        if group in up_groups:
            problems.append(f"{where}: shares concurrency group {group!r} with `up` job {up_groups[group]}")
    return problems


def check_prod_gate(wf: Workflow) -> list[str]:
    """prod is deployed by a job in environment prod that needs dev's `up`."""
    up_jobs = {job_id: job for job_id, job in wf.jobs.items() if is_up_job(job)}
    if not up_jobs:
        return []
    problems: list[str] = []
    by_stack: dict[str, str] = {}
    for job_id, job in up_jobs.items():
        for stack in stacks_of(job):
            by_stack[stack] = job_id
    dev_job, prod_job = by_stack.get("dev"), by_stack.get("prod")
    if prod_job is None:
        return problems
    job = up_jobs[prod_job]
    if environment_name(job) != "prod":
        problems.append(f"job {prod_job}: `up` for prod must use environment: prod")
    if dev_job is None or dev_job == prod_job:
        problems.append(f"job {prod_job}: no separate `up` job for dev precedes prod")
    elif dev_job not in needs_of(job):
        problems.append(f"job {prod_job}: must need the dev deploy job {dev_job!r}")
    if dev_job is not None and dev_job != prod_job and environment_name(up_jobs[dev_job]) != "dev":
        problems.append(f"job {dev_job}: `up` for dev must use environment: dev")
    return problems


def matrix_rows(job: dict[str, Any]) -> list[dict[str, Any]]:
    """The job's matrix combinations as far as `include` spells them (one empty row without a matrix)."""
    matrix = (job.get("strategy") or {}).get("matrix") or {}
    return [dict(row) for row in matrix.get("include") or []] or [{}]


def resolved_runner_labels(job: dict[str, Any]) -> list[list[str]]:
    """runs-on labels per matrix row, with `${{ matrix.<key> }}` filled in from that row."""
    resolved = []
    for row in matrix_rows(job):
        labels = []
        for label in runs_on_labels(job):
            m = re.fullmatch(r"\$\{\{\s*matrix\.([\w-]+)\s*\}\}", label.strip())
            labels.append(str(row.get(m.group(1), label)) if m else label)
        resolved.append(labels)
    return resolved


def check_pr_code_off_deploy_runners(workflows: list[Workflow]) -> list[str]:
    """PR code never runs on a runner that deploys: no pull_request job uses an `up` job's custom label.

    The deploy runners sit inside the stack networks with line of sight to the data planes; a PR job on
    them would run unreviewed code there (and once their runner group is restricted to deploy.yml on
    main, never get a runner at all).
    """
    deploy_labels = {
        label
        for wf in workflows
        for job in wf.jobs.values()
        if is_up_job(job)
        for row in resolved_runner_labels(job)
        for label in row
        if label.startswith("rta-")
    }
    problems = []
    for wf in workflows:
        if "pull_request" not in wf.triggers and "pull_request_target" not in wf.triggers:
            continue
        for job_id, job in wf.jobs.items():
            for row in resolved_runner_labels(job):
                shared = sorted(set(row) & deploy_labels)
                if shared:
                    problems.append(f"{wf.name}: job {job_id} runs PR code on deploy runner {shared}")
    return problems


REPORT_PUBLISH_STEP = "Publish the Power BI report (fabric-cicd)"
REPORT_PUBLISH_GATE = re.compile(r"^\$\{\{\s*vars\.POWERBI_WORKSPACE_ID\s*!=\s*''\s*\}\}$")


def check_report_publish(wf: Workflow) -> list[str]:
    """Each deployed stack's `up` job publishes the report with tools/publish_report.py (fabric-cicd).

    One step of that name per `up` job, after the `pulumi up` step, gated on the environment's
    POWERBI_WORKSPACE_ID variable and handed it, with the job's own stack and environment.
    """
    problems: list[str] = []
    for job_id, job in wf.jobs.items():
        if not is_up_job(job):
            continue
        steps = job.get("steps") or []
        named = [i for i, s in enumerate(steps) if s.get("name") == REPORT_PUBLISH_STEP]
        if len(named) != 1:
            problems.append(f"job {job_id}: {len(named)} steps named {REPORT_PUBLISH_STEP!r} (want 1)")
            continue
        at = named[0]
        step = steps[at]
        up_at = [
            i for i, s in enumerate(steps) if s in pulumi_steps(job) and (s.get("with") or {}).get("command") == "up"
        ]
        if not up_at or at < up_at[0]:
            problems.append(f"job {job_id}: the report is published before `pulumi up`")
        if not REPORT_PUBLISH_GATE.match(str(step.get("if", ""))):
            problems.append(
                f"job {job_id}: the report step is not gated on vars.POWERBI_WORKSPACE_ID: {step.get('if')!r}"
            )
        if (step.get("env") or {}).get("POWERBI_WORKSPACE_ID") != "${{ vars.POWERBI_WORKSPACE_ID }}":
            problems.append(f"job {job_id}: the report step's POWERBI_WORKSPACE_ID is not vars.POWERBI_WORKSPACE_ID")
        script = str(step.get("run", ""))
        if "tools/publish_report.py" not in script:
            problems.append(f"job {job_id}: the report step does not run tools/publish_report.py")
        for stack in stacks_of(job):
            if f"--environment {stack}" not in script:
                problems.append(f"job {job_id}: the report step does not publish with --environment {stack}")
            if not re.search(rf"(?<![\w-]){re.escape(stack)}(?![\w-])", str((step.get("env") or {}).get("STACK", ""))):
                problems.append(f"job {job_id}: the report step reads another stack's outputs than {stack!r}")
    return problems


def check_workflow(wf: Workflow) -> list[str]:
    """All single-workflow checks (concurrency needs all workflows together)."""
    return [
        *check_pinned_actions(wf),
        *check_no_client_secret(wf),
        *check_oidc_permissions(wf),
        *check_arm_settings(wf),
        *check_prod_gate(wf),
        *check_up_concurrency([wf]),
    ]
