"""The offline runner behaves like the engine: config reconciliation, enforcement levels, remediation, output."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import zero_trust

from offline import policy_runner
from offline.plan import SECRET_SIG, Plan
from tests.policies.cases import ACCOUNT, SERVER_OK, patch, sa, secret
from tests.policies.synthetic import plan, report, res

CONFIGS = {name: policy_runner.CONFIG_DIR / f"{name}.json" for name in ("prod", "dev")}
LEVEL_ORDER = {"disabled": 0, "advisory": 1, "remediate": 2, "mandatory": 3}


def _info() -> object:
    return policy_runner._pack_servicer()[1]


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_shipped_config_sets_every_policy_explicitly(name: str) -> None:
    doc = json.loads(CONFIGS[name].read_text())
    assert set(doc) == set(zero_trust.by_name()), "every policy has an explicit level, and nothing else is named"
    for policy, value in doc.items():
        level = value if isinstance(value, str) else value["enforcementLevel"]
        assert level in ("advisory", "mandatory"), (policy, level)
    warnings: list[str] = []
    policy_runner.reconcile(_info(), doc, warnings)
    assert warnings == []


def test_prod_is_at_least_as_strict_as_dev() -> None:
    info = _info()
    prod = policy_runner.reconcile(info, json.loads(CONFIGS["prod"].read_text()))
    dev = policy_runner.reconcile(info, json.loads(CONFIGS["dev"].read_text()))
    weaker = [n for n in prod if LEVEL_ORDER[prod[n].level] < LEVEL_ORDER[dev[n].level]]
    assert weaker == []
    assert set(prod["required-tags"].properties["requiredTags"]) >= set(dev["required-tags"].properties["requiredTags"])
    assert set(prod["allowed-regions"].properties["allowedRegions"]) <= set(
        dev["allowed-regions"].properties["allowedRegions"]
    )


def test_without_config_each_policy_uses_its_own_level() -> None:
    r = report(sa({"encryption.keySource": "Microsoft.Storage"}, allowSharedKeyAccess=True))
    levels = {v.policy: v.enforcement for v in r.violations}
    assert levels["storage-no-shared-key"] == "mandatory"
    assert levels["storage-customer-managed-key"] == "advisory"
    assert r.levels == {p.name: p.meta.enforcement.value for p in zero_trust.ALL_POLICIES}


def test_all_then_per_policy_levels() -> None:
    bad = sa(allowSharedKeyAccess=True, minimumTlsVersion="TLS1_0")
    assert not report(bad, config={"all": "disabled"}).violations
    r = report(bad, config={"all": "advisory", "storage-min-tls": "mandatory"})
    assert {v.policy for v in r.mandatory} == {"storage-min-tls"}
    assert "storage-no-shared-key" in {v.policy for v in r.advisory}
    r = report(bad, config={"storage-no-shared-key": {"enforcementLevel": "disabled"}})
    assert "storage-no-shared-key" not in r.policies_violated()


def test_config_file_path_and_properties(tmp_path: Path) -> None:
    path = tmp_path / "policy-config.json"
    path.write_text(json.dumps({"allowed-regions": {"allowedRegions": ["eastus"]}}))
    r = report(sa(), config=path)
    assert {v.policy for v in r.violations if v.policy == "allowed-regions"} == {"allowed-regions"}
    assert r.config_source == str(path)


def test_invalid_config_lists_every_problem() -> None:
    with pytest.raises(policy_runner.PolicyConfigError) as err:
        report(
            sa(),
            config={
                "storage-min-tls": "strict",
                "keyvault-soft-delete-retention": {"minRetentionDays": 3},
                "allowed-regions": {"allowedRegions": "westeurope"},
            },
        )
    problems = "\n".join(err.value.problems)
    assert "storage-min-tls" in problems
    with pytest.raises(policy_runner.PolicyConfigError) as err:
        report(
            sa(),
            config={
                "keyvault-soft-delete-retention": {"minRetentionDays": 3},
                "allowed-regions": {"allowedRegions": "westeurope"},
            },
        )
    assert len(err.value.problems) == 2


def test_unknown_names_are_warned_about() -> None:
    r = report(sa(), config={"storage-https": "mandatory", "required-tags": {"requiredTag": ["x"]}})
    assert any("storage-https" in w for w in r.warnings)
    assert any("requiredTag" in w for w in r.warnings)


def test_remediate_level_rewrites_inputs_then_analyzes_the_result() -> None:
    server = res(
        "azure-native:sql:Server",
        "sql",
        patch(SERVER_OK, minimalTlsVersion="1.0", administratorLoginPassword=secret("hunter2")),
    )
    account = sa(minimumTlsVersion="TLS1_0", allowBlobPublicAccess=True)
    r = report(
        server,
        account,
        config={
            "sql-min-tls": "remediate",
            "storage-min-tls": "remediate",
            "storage-no-anonymous-blob-access": "remediate",
        },
    )
    applied = {(x.policy, x.urn) for x in r.remediations if x.applied}
    assert applied == {
        ("sql-min-tls", server.urn),
        ("storage-min-tls", account.urn),
        ("storage-no-anonymous-blob-access", account.urn),
    }
    assert not {"sql-min-tls", "storage-min-tls", "storage-no-anonymous-blob-access"} & r.policies_violated()
    fixed = r.remediated_inputs[server.urn]
    assert fixed["minimalTlsVersion"] == "1.2"
    assert fixed["administratorLoginPassword"][SECRET_SIG]  # still a secret after the rewrite
    assert r.remediated_inputs[account.urn]["allowBlobPublicAccess"] is False


def test_remediation_leaves_unknowns_alone() -> None:
    account = sa(minimumTlsVersion="04da6b54-80e4-46f7-96ec-b56ff0331ba9")
    r = report(account, config={"storage-min-tls": "remediate"}, preview=True)
    assert account.urn not in r.remediated_inputs
    assert not r.unknowns


def test_stack_policies_at_remediate_level_report_as_mandatory() -> None:
    r = report(sa(), config={"storage-private-endpoint": "remediate"})
    assert {v.enforcement for v in r.for_policy("storage-private-endpoint")} == {"mandatory"}


def test_print_report_shows_policy_severity_level_resource_and_message() -> None:
    account = sa(allowSharedKeyAccess=True)
    out = io.StringIO()
    assert policy_runner.print_report(report(account), out) is True
    text = out.getvalue()
    for fragment in ("storage-no-shared-key", "[mandatory]", "[high]", account.urn, "allowSharedKeyAccess is true"):
        assert fragment in text
    assert "mandatory policies block the update" in text

    out = io.StringIO()
    # A lone container: nothing else to judge (operations-alerting, which fails any stack with no
    # action group, alerts or budget, is switched off for this one).
    clean = report(
        res("azure-native:storage:BlobContainer", "c", {"containerName": "x"}),
        config={"operations-alerting": "disabled"},
    )
    assert policy_runner.print_report(clean, out) is False
    assert "No policy violations" in out.getvalue()


def test_runner_cli_exit_codes(tmp_path: Path) -> None:
    bad, good = tmp_path / "bad.json", tmp_path / "good.json"
    plan(sa(allowSharedKeyAccess=True)).write(bad)
    plan(res("azure-native:storage:BlobContainer", "c", {"containerName": "x"})).write(good)
    out = io.StringIO()
    assert policy_runner.main(["--plan", str(bad), "--config", str(CONFIGS["dev"])], out) == 1
    assert policy_runner.main(["--plan", str(good), "--config", str(CONFIGS["dev"])], io.StringIO()) == 0
    assert "storage-no-shared-key" in out.getvalue()
    broken = tmp_path / "broken.json"
    broken.write_text('{"storage-min-tls": "sometimes"}')
    assert policy_runner.main(["--plan", str(good), "--config", str(broken)], io.StringIO()) == 2


def test_default_config_follows_the_stack() -> None:
    assert policy_runner.default_config_for(plan()).name == "prod.json"  # unknown stack: the strict one
    p = plan()
    p.stack = "dev"
    assert policy_runner.default_config_for(p).name == "dev.json"


def test_account_fixture_is_compliant() -> None:
    """The base account the cases mutate passes every storage policy, so each case isolates one change."""
    r = report(res("azure-native:storage:StorageAccount", "lake", ACCOUNT))
    # Companion-resource policies (endpoints, blob service properties) need more than the account itself.
    companions = {"storage-private-endpoint", "storage-blob-soft-delete"}
    storage_resource_policies = {p.name for p in zero_trust.storage.POLICIES} - companions
    assert not storage_resource_policies & r.policies_violated()


def test_shared_property_proxies_give_the_sdk_s_own_report(dev_preview_plan) -> None:  # type: ignore[no-untyped-def]
    # evaluate() hands every policy one proxy tree per resource; the unwrapped function runs the SDK's
    # own rebuild per policy. Dev's preview has advisory violations and unknowns, so both paths are exercised.
    config = CONFIGS["dev"]
    shared = policy_runner.evaluate(dev_preview_plan, config)
    rebuilt = policy_runner.evaluate.__wrapped__(dev_preview_plan, config)  # type: ignore[attr-defined]
    assert shared.violations and shared.violations == rebuilt.violations
    assert shared.unknowns == rebuilt.unknowns
    assert shared.remediations == rebuilt.remediations


def test_a_validation_policy_that_writes_its_inputs_fails_loudly() -> None:
    from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

    def write_resource(args, _report) -> None:  # type: ignore[no-untyped-def]
        args.props["minimumTlsVersion"] = "TLS1_2"

    def write_stack(args, _report) -> None:  # type: ignore[no-untyped-def]
        args.resources[0].props["tags"]["owner"] = "someone-else"

    for policy in (
        ResourceValidationPolicy("writes-resource", "writes its inputs", validate=write_resource),
        StackValidationPolicy("writes-stack", "writes a resource's inputs", validate=write_stack),
    ):
        with pytest.raises(TypeError, match="wrote resource property"):
            policy_runner.evaluate(plan(sa()), policies=[policy])


def test_the_read_once_stack_request_gives_the_sdk_s_own_report(
    dev_plan: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stack pass reads each resource's fields once (policy_runner._ReadOnce); the report must be the one
    the SDK gives on the protobuf request itself. Dev has stack-level violations to compare."""
    fast = policy_runner.evaluate(dev_plan, policy_runner.CONFIG_DIR / "dev.json")
    monkeypatch.setattr(policy_runner, "_stack_request", lambda request: request)
    sdk = policy_runner.evaluate(dev_plan, policy_runner.CONFIG_DIR / "dev.json")
    stack_level = [v for v in sdk.violations if v.stack_level]
    assert stack_level, "dev has stack-level violations to compare"
    assert fast.violations == sdk.violations and fast.unknowns == sdk.unknowns
    assert fast.not_applicable == sdk.not_applicable
