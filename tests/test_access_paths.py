"""Access paths: every declared flow resolves in each shipped stack, breaks when a piece is removed,
and the README's architecture diagram draws exactly the declared flows."""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Callable

import pytest

from offline import access_paths
from offline.access_paths import DIAGRAM_STRUCTURE, FLOWS, evaluate
from offline.engine import REPO_ROOT
from offline.plan import Plan, PlannedResource


def test_every_applicable_flow_resolves_in_the_shipped_stacks(
    dev_preview_plan: Plan, prod_preview_plan: Plan, prod_plan: Plan, confluent_preview_plan: Plan
) -> None:
    for plan in (dev_preview_plan, prod_preview_plan, prod_plan, confluent_preview_plan):
        report = evaluate(plan)
        assert not report.broken, (plan.stack, report.broken)
        for flow_id, res in report.resolved.items():
            assert res.principal and res.grant and res.network, (plan.stack, flow_id, res)
    # Between them the shipped stacks exercise every declared flow.
    exercised = {f for p in (dev_preview_plan, prod_preview_plan, confluent_preview_plan) for f in evaluate(p).resolved}
    assert exercised == {f.id for f in FLOWS}


def _without(plan: Plan, drop: Callable[[PlannedResource], bool]) -> Plan:
    return Plan(plan.project, plan.stack, plan.preview, [r for r in plan.resources if not drop(r)], plan.outputs)


def _edited(plan: Plan, name: str, edit: Callable[[PlannedResource], None]) -> Plan:
    clone = copy.deepcopy(plan)
    edit(next(r for r in clone.resources if r.name == name))
    return clone


def _no_bypass(vault: PlannedResource) -> None:
    vault.inputs["properties"]["networkAcls"]["bypass"] = "None"


# flow id -> (stack fixture, mutation that removes one piece, the problem expected)
BREAKS: dict[str, tuple[str, Callable[[Plan], Plan], str]] = {
    "producer->eventhubs": (
        "prod_preview_plan",
        lambda p: _without(p, lambda r: r.name == "eventstreaming-ra-producer"),
        "no grant: identities-producer holds no Azure Event Hubs Data Sender on eventstreaming-ehns or its hubs",
    ),
    "producer->confluent": (
        "confluent_preview_plan",
        lambda p: _without(p, lambda r: r.name == "network-dns-confluent-link"),
        "no network: no Confluent private endpoint with its zone linked to the caller's VNet",
    ),
    "bronze->eventhubs": (
        "prod_preview_plan",
        lambda p: _without(p, lambda r: r.name == "network-dns-namespace-link"),
        "no network: no private endpoint to eventstreaming-ehns resolvable there",
    ),
    "bronze->confluent": (
        "confluent_preview_plan",
        lambda p: _without(
            p, lambda r: r.name == "confluent-rb-processor-trades-read" or r.name.endswith("group-read")
        ),
        "no grant: no DeveloperRead role binding",
    ),
    "jobs->lake": (
        "prod_preview_plan",
        lambda p: _without(p, lambda r: r.name == "datalake-pe-dfs-dns"),
        "no network: no dfs endpoint to datalake-st",
    ),
    "gold->sql": (
        "prod_preview_plan",
        lambda p: _without(p, lambda r: r.name == "network-dns-sqlServer-link"),
        "no network: no sqlServer endpoint to serving-server resolvable from the Databricks VNet",
    ),
    "alerts->warehouse->gold": (
        "prod_preview_plan",
        lambda p: _without(p, lambda r: r.name == "serving-dashboards-warehouse-permissions"),
        "may not use serving-dashboards-warehouse",
    ),
    "powerbi->sql": (
        "prod_preview_plan",
        lambda p: _without(p, lambda r: r.name == "serving-pe-sqlServer"),
        "no network: no sqlServer endpoint to serving-server resolvable from the platform VNet",
    ),
    "hot-path->eventhubs": (
        "dev_preview_plan",
        lambda p: _without(p, lambda r: r.name == "hot-path-mpe-eventhubs"),
        "no network: no managed private endpoint from the cluster to hot-path-eventhubs's namespace",
    ),
    "poller->keyvault": (
        "dev_preview_plan",
        lambda p: _without(p, lambda r: r.name == "api-poller-ra-secret-trades-api-key"),
        "no grant: api-poller-func's reference identity may read no secret of keyvault-kv",
    ),
    "poller->host-storage": (
        "dev_preview_plan",
        lambda p: _without(p, lambda r: r.name == "api-poller-st-pe-blob-dns"),
        "no network: no blob endpoint to api-poller-st resolvable from api-poller-func's integration VNet",
    ),
    "secret-scope->keyvault": (
        "prod_preview_plan",
        lambda p: _edited(p, "keyvault-kv", _no_bypass),
        "no network: keyvault-kv does not let trusted services through",
    ),
    "deploy-runner->data-planes": (
        "prod_preview_plan",
        lambda p: _without(p, lambda r: r.name == "network-peer-deploy-runner"),
        "databricks-dbw's front end is not reachable from the runner VNet",
    ),
    "cmk-consumers->keys": (
        "prod_preview_plan",
        lambda p: _without(p, lambda r: r.name == "keyvault-key-lake-ra-lake-cmk"),
        "datalake-st unwraps cmk-lake as ['identities-lake-cmk'], which holds no role on it",
    ),
}


def test_a_grant_counts_only_for_the_flow_whose_caller_holds_it(dev_preview_plan: Plan) -> None:
    # Kusto's Data Receiver grant on the same hub must not stand in for the bronze job's, nor the poller's
    # secret role for the AzureDatabricks application's.
    report = evaluate(
        _without(
            dev_preview_plan,
            lambda r: r.name in ("eventstreaming-ra-processor", "keyvault-ra-azure-databricks-secret-scope"),
        )
    )
    assert {"bronze->eventhubs", "secret-scope->keyvault"} <= set(report.broken)
    assert "hot-path->eventhubs" not in report.broken and "poller->keyvault" not in report.broken


def test_a_stack_without_a_runner_path_cannot_reach_its_private_front_end(prod_preview_plan: Plan) -> None:
    # Before network.deployRunner the shipped stacks had no path: the first workspace-level call of
    # `pulumi up` (the deployer's admin, every Unity Catalog object) would time out on the private front end.
    outputs = {k: v for k, v in prod_preview_plan.outputs.items() if k != "deployRunnerVnetIds"}
    plan = Plan(prod_preview_plan.project, prod_preview_plan.stack, True, prod_preview_plan.resources, outputs)
    (problem,) = evaluate(plan).broken["deploy-runner->data-planes"].problems
    assert "databricks-dbw's front end answers only on private endpoints" in problem
    assert "network.deployRunner" in problem


def test_the_runner_path_needs_the_zone_link_and_the_deployer_admin(
    dev_preview_plan: Plan, confluent_preview_plan: Plan
) -> None:
    unlinked = evaluate(_without(dev_preview_plan, lambda r: r.name == "network-dns-sites-link-deploy-runner"))
    assert any(
        "api-poller-func's SCM site is not reachable" in p
        for p in unlinked.broken["deploy-runner->data-planes"].problems
    )
    no_admin = evaluate(_without(dev_preview_plan, lambda r: r.name == "databricks-deployer-admin"))
    assert any("no deployer is made admin" in p for p in no_admin.broken["deploy-runner->data-planes"].problems)
    topics = evaluate(_without(confluent_preview_plan, lambda r: r.name == "network-dns-confluent-link-deploy-runner"))
    assert any("Confluent cluster's REST endpoint" in p for p in topics.broken["deploy-runner->data-planes"].problems)


def test_every_flow_has_a_breaking_case() -> None:
    assert sorted(BREAKS) == sorted(f.id for f in FLOWS)


@pytest.mark.parametrize("flow_id", sorted(BREAKS))
def test_a_flow_missing_a_piece_is_broken(flow_id: str, request: pytest.FixtureRequest) -> None:
    fixture, mutate, expected = BREAKS[flow_id]
    report = evaluate(mutate(request.getfixturevalue(fixture)))
    assert flow_id in report.broken, report.resolved.get(flow_id)
    assert any(expected in p for p in report.broken[flow_id].problems), report.broken[flow_id].problems


# ----------------------------------------------------------------------------- the README diagram

_EDGE = re.compile(r"\s*(?:-->|---|-\.->|-\.-|-\.\s[^.]*?\s\.->|-\.\s[^.]*?\s\.-)\s*(?:\|[^|]*\|)?\s*")
_NODE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)")


def diagram_edges() -> set[tuple[str, str]]:
    """(from, to) node ids of every edge in the README's mermaid architecture chart."""
    readme = (REPO_ROOT / "README.md").read_text()
    chart = readme.split("```mermaid", 1)[1].split("```", 1)[0]
    edges: set[tuple[str, str]] = set()
    for line in chart.splitlines():
        line = line.strip()
        if not line or line.startswith(("subgraph", "end", "direction", "flowchart", "%%")):
            continue
        parts = _EDGE.split(line)
        groups = [[m.group(1) for n in part.split("&") if (m := _NODE.match(n.strip()))] for part in parts]
        for left, right in itertools.pairwise(groups):
            edges |= {(a, b) for a in left for b in right}
    return edges


def test_the_diagram_parser_reads_every_edge_form() -> None:
    edges = diagram_edges()
    assert {("P", "EH"), ("B", "S"), ("S", "G"), ("G", "LAKE"), ("KV", "SQL"), ("SQL", "LAW")} <= edges


def test_each_declared_flow_is_drawn_in_the_readme() -> None:
    edges = diagram_edges()
    for flow in FLOWS:
        missing = [e for e in flow.diagram_edges if e not in edges]
        assert not missing, f"{flow.id}: README diagram lacks {missing}"


def test_the_readme_draws_no_flow_the_code_does_not_back() -> None:
    """The producer -> Confluent arrow was drawn with no code behind it; every data edge is a declared flow."""
    declared = {e for f in FLOWS for e in f.diagram_edges} | set(DIAGRAM_STRUCTURE)
    undeclared = sorted(diagram_edges() - declared)
    assert not undeclared, f"README diagram edges no declared access flow backs: {undeclared}"


def test_the_preview_prints_access_paths_beside_the_policy_verdicts() -> None:
    import io

    from offline import preview

    out = io.StringIO()
    assert preview.main(["--stack", "prod", "--quiet"], out) == preview.EXIT_OK, out.getvalue()
    text = out.getvalue()
    assert text.index("Apply-time rules") < text.index("Access paths") < text.index("Policy pack")
    assert "[ok] cmk-consumers->keys" in text
    assert access_paths.__doc__
