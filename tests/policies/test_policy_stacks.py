"""The shipped stacks pass every mandatory policy under their own policy config, in preview and in up.

A first preview is the hard case: ids and computed outputs are unknown, so the
cross-resource policies must match on dependencies, and no policy may fall
back to the SDK's "can't run during preview" diagnostic.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from offline import policy_runner
from offline.plan import Plan

PLANS = ["dev_plan", "prod_plan", "dev_preview_plan", "prod_preview_plan"]


@pytest.mark.parametrize("fixture", PLANS)
def test_shipped_stack_passes_every_mandatory_policy(fixture: str, request: pytest.FixtureRequest) -> None:
    plan: Plan = request.getfixturevalue(fixture)
    config = policy_runner.default_config_for(plan)
    assert config.name == f"{plan.stack}.json"
    report = policy_runner.evaluate(plan, config)
    assert [(v.policy, v.resource, v.message) for v in report.mandatory] == []
    assert report.unknowns == []
    assert report.warnings == []


def test_preview_and_up_agree_on_prod(prod_plan: Plan, prod_preview_plan: Plan) -> None:
    """Nothing passes in preview only because a value was unknown: up sees the same verdicts."""
    config = policy_runner.CONFIG_DIR / "prod.json"
    preview = policy_runner.evaluate(prod_preview_plan, config)
    up = policy_runner.evaluate(prod_plan, config)
    assert {(v.policy, v.urn) for v in preview.violations} == {(v.policy, v.urn) for v in up.violations}


def test_cross_resource_policies_see_the_stack(prod_preview_plan: Plan) -> None:
    """The stack policies found their targets by dependency: removing every endpoint trips them all."""
    plan = Plan(
        project=prod_preview_plan.project,
        stack=prod_preview_plan.stack,
        preview=True,
        resources=[r for r in prod_preview_plan.resources if r.type != "azure-native:network:PrivateEndpoint"],
        outputs={},
    )
    tripped = policy_runner.evaluate(plan, policy_runner.CONFIG_DIR / "prod.json").policies_violated()
    expected = {
        "storage-private-endpoint",
        "keyvault-private-endpoint",
        "eventhub-private-endpoint",
        "sql-private-endpoint",
    }
    if plan.of_type("azure-native:databricks:Workspace"):
        expected.add("databricks-private-endpoint")
    assert expected <= tripped


def test_offline_preview_fails_on_a_mandatory_violation(tmp_path: Path) -> None:
    """End to end: the offline preview prints each violation and exits 1 when one is mandatory."""
    from offline import preview

    config = tmp_path / "eastus-only.json"
    config.write_text(json.dumps({"allowed-regions": {"enforcementLevel": "mandatory", "allowedRegions": ["eastus"]}}))
    out = io.StringIO()
    code = preview.main(
        ["--stack", "dev", "--quiet", "--policy-config", str(config), "--json", str(tmp_path / "plan.json")], out
    )
    text = out.getvalue()
    assert code == preview.EXIT_POLICY
    assert "[mandatory] [medium] allowed-regions" in text
    assert "location 'westeurope' is not one of ['eastus']" in text
