"""Operations: the action group, the metric alerts on every store, the budget; asserted on the recorded plans.

Expected values come from the stack files and the catalogue (stack_config/operations.py),
never from the plan itself: a threshold in the plan must be the stack's override or
the catalogue's default, and every alert must point at its target and the action group.
"""

from __future__ import annotations

from typing import Any

import pytest

from offline.plan import Plan, PlannedResource
from stack_config import ConfigError
from stack_config.loader import parse_stack_config
from stack_config.operations import METRIC_ALERTS, OperationsConfig, Target
from streaming_jobs.ops_metrics import METRICS_TABLE, QUALITY_VIEW
from tests.plan_queries import only, raw_stack_config

ACTION_GROUP = "azure-native:monitor:ActionGroup"
METRIC_ALERT = "azure-native:monitor:MetricAlert"
TARGET_TYPES = {
    Target.EVENT_HUBS: "azure-native:eventhub:Namespace",
    Target.SQL_DATABASE: "azure-native:sql:Database",
    Target.DATA_LAKE: "azure-native:storage:StorageAccount",
    Target.KEY_VAULT: "azure-native:keyvault:Vault",
    Target.FIREWALL: "azure-native:network:AzureFirewall",
}


def _operations(stack: str) -> OperationsConfig:
    ops = parse_stack_config(raw_stack_config(stack), stack).operations
    assert ops is not None
    return ops


def _alerts(plan: Plan) -> dict[str, PlannedResource]:
    return {r.name.removeprefix("alerting-"): r for r in plan.of_type(METRIC_ALERT)}


# --------------------------------------------------------------------------- the plan


def test_action_group_is_global_and_mails_the_configured_receivers(stack_plan: Plan) -> None:
    ops = _operations(stack_plan.stack)
    group = only(stack_plan, ACTION_GROUP)
    assert group.inputs["location"] == "Global"
    assert group.inputs["groupShortName"] == ops.action_group.short_name
    assert len(ops.action_group.short_name) <= 12
    assert [r["emailAddress"] for r in group.inputs["emailReceivers"]] == list(ops.action_group.emails)
    assert all(r["useCommonAlertSchema"] for r in group.inputs["emailReceivers"])


def test_every_alert_watches_its_metric_on_its_target_with_the_configured_threshold(stack_plan: Plan) -> None:
    ops = _operations(stack_plan.stack)
    alerts = _alerts(stack_plan)
    group = only(stack_plan, ACTION_GROUP)
    expected = {a.key: a for a in ops.resolved_alerts()}
    for key, alert in alerts.items():
        resolved = expected[key]
        rule = resolved.rule
        target_type = TARGET_TYPES[rule.target]
        # The lake is one of two storage accounts (the other holds the VNet flow logs, docs/network.md).
        target = (
            stack_plan.one(target_type, "datalake-st")
            if rule.target is Target.DATA_LAKE
            else only(stack_plan, target_type)
        )
        assert alert.inputs["scopes"] == [target.id], key
        assert alert.inputs["location"] == "global"
        assert alert.inputs["severity"] == resolved.severity, key
        criteria = alert.inputs["criteria"]
        assert criteria["odataType"] == "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria"
        criterion, *guards = criteria["allOf"]
        expected_guards = [rule.guard] if rule.guard else []
        assert [(g["metricName"], g["timeAggregation"], g["operator"], g["threshold"]) for g in guards] == [
            (g.metric, g.aggregation, g.operator, g.threshold) for g in expected_guards
        ], key
        assert all(g["metricNamespace"] == rule.namespace for g in guards), key
        assert criterion["metricName"] == rule.metric, key
        assert criterion["metricNamespace"] == rule.namespace, key
        assert criterion["timeAggregation"] == rule.aggregation, key
        assert criterion["operator"] == rule.operator, key
        assert criterion["threshold"] == resolved.threshold, key
        assert alert.inputs["actions"] == [{"actionGroupId": group.id}], key


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_overrides_are_applied(stack: str) -> None:
    """Each shipped override changes a catalogue default and is what resolved_alerts (so the plan) carries:
    the threshold-from-config assertion above can fail. Values are read from the stack file, not restated."""
    ops = _operations(stack)
    resolved = {a.key: a for a in ops.resolved_alerts()}
    changed = [
        (key, field, value)
        for key, override in ops.alerts.items()
        for field, value in override.model_dump(exclude={"enabled"}, exclude_none=True).items()
    ]
    assert changed, f"{stack} ships no alert override"
    for key, field, value in changed:
        assert value != getattr(METRIC_ALERTS[key], field), (key, field)
        assert getattr(resolved[key], field) == value, (key, field)


def test_the_stalled_consumer_alert_needs_incoming_messages(prod_plan: Plan) -> None:
    """An idle namespace (no trades at night) is not a stalled consumer: both conditions must hold."""
    (outgoing, incoming) = _alerts(prod_plan)["eventHubsNoOutgoing"].inputs["criteria"]["allOf"]
    assert (outgoing["metricName"], outgoing["operator"], outgoing["threshold"]) == ("OutgoingMessages", "LessThan", 1)
    assert (incoming["metricName"], incoming["operator"], incoming["threshold"]) == (
        "IncomingMessages",
        "GreaterThan",
        0,
    )
    assert incoming["timeAggregation"] == outgoing["timeAggregation"] == "Total"


def test_prod_has_every_catalogued_alert(prod_plan: Plan) -> None:
    """Prod has Event Hubs with capture, SQL, the lake and the vault: nothing in the catalogue is skipped."""
    assert set(_alerts(prod_plan)) == set(METRIC_ALERTS)


def test_dev_skips_the_capture_backlog_alert_it_has_no_capture_for(dev_plan: Plan) -> None:
    """Dev has no capture, and no firewall of its own (no hub): neither the capture-backlog nor the firewall rules."""
    assert not dev_plan.of_type(TARGET_TYPES[Target.FIREWALL])
    assert set(_alerts(dev_plan)) == {
        k for k, r in METRIC_ALERTS.items() if r.needs is None and r.target is not Target.FIREWALL
    }


def test_prod_watches_the_hub_firewall_as_azure_monitor_baseline_alerts_does(prod_plan: Plan) -> None:
    firewall, group = only(prod_plan, TARGET_TYPES[Target.FIREWALL]), only(prod_plan, ACTION_GROUP)
    alerts = _alerts(prod_plan)
    watched = {"firewallHealth": ("FirewallHealth", "LessThan", 90), "firewallSnatPortUtilization": (
        "SNATPortUtilization", "GreaterThan", 80)}  # fmt: skip
    for key, (metric, operator, threshold) in watched.items():
        alert = alerts[key]
        assert alert.inputs["scopes"] == [firewall.id]
        (criterion,) = alert.inputs["criteria"]["allOf"]
        assert (criterion["metricName"], criterion["operator"]) == (metric, operator)
        assert criterion["metricNamespace"] == "Microsoft.Network/azureFirewalls"
        assert criterion["threshold"] == threshold == METRIC_ALERTS[key].threshold
        assert (alert.inputs["windowSize"], alert.inputs["evaluationFrequency"]) == ("PT5M", "PT1M")
        assert alert.inputs["actions"] == [{"actionGroupId": group.id}]


def test_confluent_stack_gets_no_event_hubs_alerts(confluent_plan: Plan) -> None:
    names = set(_alerts(confluent_plan))
    assert names, "the confluent stack watches its lake, vault and database"
    assert not {k for k in names if METRIC_ALERTS[k].target is Target.EVENT_HUBS}


def test_storage_throttling_filters_the_throttling_response_types(prod_plan: Plan) -> None:
    (criterion,) = _alerts(prod_plan)["storageThrottling"].inputs["criteria"]["allOf"]
    assert criterion["dimensions"] == [
        {"name": "ResponseType", "operator": "Include", "values": ["ServerBusyError", "ClientThrottlingError"]}
    ]


ACTIVITY_ALERT = "azure-native:monitor:ActivityLogAlert"
BUDGET = "azure-native:consumption:Budget"
RESOURCE_GROUP = "azure-native:resources:ResourceGroup"


def test_activity_log_alerts_watch_the_resource_group_for_deletes_role_changes_and_health(stack_plan: Plan) -> None:
    from components.alerting import KEY_RESOURCE_DELETES, ROLE_ASSIGNMENT_CHANGES

    group, rg = only(stack_plan, ACTION_GROUP), only(stack_plan, RESOURCE_GROUP)
    alerts = {r.name.removeprefix("alerting-"): r for r in stack_plan.of_type(ACTIVITY_ALERT)}
    assert set(alerts) == {"keyResourceDeleted", "roleAssignmentChanged", "resourceUnhealthy"}
    for alert in alerts.values():
        assert alert.inputs["scopes"] == [rg.id]
        assert alert.inputs["location"] == "Global"
        assert alert.inputs["actions"] == {"actionGroups": [{"actionGroupId": group.id}]}

    def leaves(key: str) -> tuple[dict[str, str], list[str]]:
        first, second = alerts[key].inputs["condition"]["allOf"]
        return first, [c["equals"] for c in second["anyOf"]]

    assert leaves("keyResourceDeleted") == (
        {"field": "category", "equals": "Administrative"},
        list(KEY_RESOURCE_DELETES),
    )
    assert leaves("roleAssignmentChanged")[1] == list(ROLE_ASSIGNMENT_CHANGES)
    assert leaves("resourceUnhealthy") == (
        {"field": "category", "equals": "ResourceHealth"},
        ["Degraded", "Unavailable"],
    )
    # Every key data store of the plan has its delete operation watched.
    stores = {
        "keyvault:Vault": "Microsoft.KeyVault/vaults",
        "storage:StorageAccount": "Microsoft.Storage/storageAccounts",
        "sql:Server": "Microsoft.Sql/servers",
        "databricks:Workspace": "Microsoft.Databricks/workspaces",
    }
    for type_token, arm_type in stores.items():
        if stack_plan.of_type(f"azure-native:{type_token}"):
            assert f"{arm_type}/delete" in KEY_RESOURCE_DELETES, type_token


def test_budget_on_the_resource_group_notifies_the_action_group_at_the_configured_thresholds(stack_plan: Plan) -> None:
    budget_config = _operations(stack_plan.stack).budget
    assert budget_config is not None
    budget, group, rg = only(stack_plan, BUDGET), only(stack_plan, ACTION_GROUP), only(stack_plan, RESOURCE_GROUP)
    assert budget.inputs["scope"] == rg.id
    assert budget.inputs["amount"] == budget_config.amount
    assert (budget.inputs["category"], budget.inputs["timeGrain"]) == ("Cost", "Monthly")
    assert budget.inputs["timePeriod"]["startDate"][8:] == "01T00:00:00Z", "a budget starts on the first of a month"
    assert "timePeriod" in budget.options.get("ignoreChanges", [])
    notifications = budget.inputs["notifications"].values()
    assert sorted((n["thresholdType"], n["threshold"]) for n in notifications) == sorted(
        [("Actual", t) for t in budget_config.actual_thresholds]
        + [("Forecasted", t) for t in budget_config.forecast_thresholds]
    )
    assert all(n["contactGroups"] == [group.id] and n["enabled"] for n in notifications)


# --------------------------------------------------------------------------- config


def _prod_with(**operations: Any) -> dict[str, Any]:
    raw = raw_stack_config("prod")
    raw["operations"] = {**raw["operations"], **operations}
    return raw


BROKEN: list[tuple[str, dict[str, Any], str]] = [
    ("unknown alert key", _prod_with(alerts={"sqlCpuPrecent": {"threshold": 1}}), "unknown keys ['sqlCpuPrecent']"),
    (
        "window not offered",
        _prod_with(alerts={"sqlDeadlocks": {"windowMinutes": 7}}),
        "alerts.sqlDeadlocks.windowMinutes 7",
    ),
    # 0 is a value, not "unset": it must be refused, not replaced by the default.
    ("window zero", _prod_with(alerts={"sqlDeadlocks": {"windowMinutes": 0}}), "alerts.sqlDeadlocks.windowMinutes 0"),
    (
        "window shorter than frequency",
        _prod_with(alerts={"sqlDeadlocks": {"windowMinutes": 5, "frequencyMinutes": 15}}),
        "shorter than frequencyMinutes 15",
    ),
    ("severity out of range", _prod_with(alerts={"sqlDeadlocks": {"severity": 5}}), "severity"),
    (
        "budget not on the first of a month",
        _prod_with(budget={"amount": 10, "startDate": "2026-01-15"}),
        "must be the first day of a month",
    ),
    ("no receiver", _prod_with(actionGroup={"shortName": "ops"}), "at least one receiver"),
    ("short name too long", _prod_with(actionGroup={"shortName": "x" * 13, "emails": ["a@b.io"]}), "shortName"),
    ("prod without a budget", _prod_with(budget=None), "operations.budget is required in prod"),
    (
        "prod with an alert off",
        _prod_with(alerts={"keyVaultAvailability": {"enabled": False}}),
        "['keyVaultAvailability'] must not be disabled in prod",
    ),
]


@pytest.mark.parametrize(("case", "raw", "expected"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_operations_config_is_rejected(case: str, raw: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_stack_config(raw, "prod")
    assert expected in str(info.value), str(info.value)


def test_prod_without_operations_is_rejected() -> None:
    raw = raw_stack_config("prod")
    del raw["operations"]
    with pytest.raises(ConfigError, match="operations is required in prod"):
        parse_stack_config(raw, "prod")


def test_dev_may_go_without_operations() -> None:
    raw = raw_stack_config("dev")
    del raw["operations"]
    assert parse_stack_config(raw, "dev").operations is None


def test_the_documented_catalogue_is_the_code_catalogue() -> None:
    """docs/operations.md lists every catalogued alert with its metric, operator, default and severity."""
    from offline.engine import REPO_ROOT

    operators = {">": "GreaterThan", "<": "LessThan", ">=": "GreaterThanOrEqual", "<=": "LessThanOrEqual"}
    rows = {}
    for line in (REPO_ROOT / "docs" / "operations.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and cells[0].strip("`") in METRIC_ALERTS:
            rows[cells[0].strip("`")] = cells
    assert set(rows) == set(METRIC_ALERTS)
    for key, (_, _, metric, aggregation, op, default, severity, timing) in rows.items():
        rule = METRIC_ALERTS[key]
        assert metric.split("`")[1] == rule.metric, key
        assert (aggregation, operators[op]) == (rule.aggregation, rule.operator), key
        assert (float(default), int(severity)) == (rule.threshold, rule.severity), key
        assert timing == f"{rule.window_minutes} / {rule.frequency_minutes} min", key


def test_the_recovery_table_states_what_the_stacks_configure() -> None:
    """docs/operations.md's backup/DR rows quote the shipped stacks' settings; a change to either must follow."""
    from components.lake_rules import SOFT_DELETE_DAYS
    from offline.engine import REPO_ROOT

    rows = {}
    for line in (REPO_ROOT / "docs" / "operations.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and line.startswith("| ") and cells[0] not in ("store", "---"):
            rows[cells[0]] = cells
    prod, dev = (parse_stack_config(raw_stack_config(s), s) for s in ("prod", "dev"))
    stores = ("data lake (ADLS Gen2)", "Azure SQL (gold)", "Event Hubs", "Key Vault", "Log Analytics")
    assert set(rows) == set(stores)
    lake, sql, hubs, vault, logs = (rows[k] for k in stores)  # by name: the docs' row order may change
    assert f"`dataLake.replication` {prod.data_lake.replication.value}" in lake[1]
    assert dev.data_lake.replication.value in lake[2]
    assert all(f"soft delete {SOFT_DELETE_DAYS} days" in cell for cell in lake[1:3])
    assert prod.sql is not None and dev.sql is not None
    assert f"`backupStorageRedundancy` {prod.sql.database.backup_storage_redundancy.value}" in sql[1]
    assert f"point-in-time restore {prod.sql.backup.short_term_retention_days} days" in sql[1]
    assert (
        f"{dev.sql.database.backup_storage_redundancy.value} backups, {dev.sql.backup.short_term_retention_days} days"
        in sql[2]
    )
    assert prod.event_hubs is not None and dev.event_hubs is not None
    assert prod.event_hubs.sku.value in hubs[1] and dev.event_hubs.sku.value in hubs[2]
    assert f"({prod.event_hubs.hubs[0].retention_hours} h)" in hubs[3]
    assert f"soft delete {prod.key_vault.soft_delete_retention_days} days" in vault[1]
    assert f"soft delete {dev.key_vault.soft_delete_retention_days} days" in vault[2]
    assert f"retention {prod.monitoring.retention_days} days" in logs[1]
    assert f"{dev.monitoring.retention_days} days" in logs[2]


QUERY_RULE = "azure-native:monitor:ScheduledQueryRule"


def test_consumer_lag_is_a_log_alert_on_the_namespace_metrics_in_the_workspace(prod_plan: Plan) -> None:
    lag = _operations("prod").consumer_lag
    rule, group = only(prod_plan, QUERY_RULE), only(prod_plan, ACTION_GROUP)
    workspace, namespace = (
        only(prod_plan, "azure-native:operationalinsights:Workspace"),
        only(prod_plan, TARGET_TYPES[Target.EVENT_HUBS]),
    )
    assert rule.inputs["kind"] == "LogAlert"
    assert rule.inputs["scopes"] == [workspace.id]
    assert rule.inputs["windowSize"] == f"PT{lag.window_minutes}M"
    assert rule.inputs["severity"] == lag.severity
    assert rule.inputs["actions"] == {"actionGroups": [group.id]}
    (condition,) = rule.inputs["criteria"]["allOf"]
    assert (condition["operator"], condition["threshold"]) == ("GreaterThan", lag.threshold)
    assert (condition["metricMeasureColumn"], condition["timeAggregation"]) == ("lag", "Total")
    query = condition["query"]
    assert query.startswith("AzureMetrics") and f'ResourceId =~ "{namespace.id}"' in query
    assert "extend lag = incoming - outgoing" in query


def test_no_consumer_lag_rule_without_event_hubs(confluent_plan: Plan) -> None:
    assert not confluent_plan.of_type(QUERY_RULE)


def test_continuous_jobs_mail_the_on_call_when_the_backlog_exceeds_the_freshness_slo(stack_plan: Plan) -> None:
    ops = _operations(stack_plan.stack)
    continuous = [j for j in stack_plan.of_type("databricks:index/job:Job") if j.inputs.get("continuous")]
    assert continuous, "the stack deploys continuous streaming jobs"
    for job in continuous:
        assert job.inputs["health"] == {
            "rules": [{"metric": "STREAMING_BACKLOG_SECONDS", "op": "GREATER_THAN", "value": ops.slo.freshness_seconds}]
        }, job.name
        assert job.inputs["emailNotifications"]["onStreamingBacklogExceededs"] == list(ops.action_group.emails)
    on_demand = [j for j in stack_plan.of_type("databricks:index/job:Job") if not j.inputs.get("continuous")]
    assert all("health" not in j.inputs for j in on_demand), "a batch smoke job has no stream backlog"


def test_a_webhook_url_must_be_set_as_a_secret() -> None:
    """The loader refuses a webhook whose urlSecret key is unset or stored in plain text (the URL is a token)."""
    hook = "rta-platform:opsWebhookUrl"
    ops = parse_stack_config(
        _prod_with(actionGroup={"shortName": "ops", "webhooks": [{"name": "chat", "urlSecret": hook}]}), "prod"
    ).operations
    assert ops is not None
    (missing,) = ops.webhook_secret_problems({}.get, lambda k: True, "prod")
    assert missing.startswith(f"{hook} is required when operations.actionGroup.webhooks names it"), missing
    assert f"pulumi config set --secret {hook} <value> --stack prod" in missing
    values = {hook: "https://chat.example.com/hook?token=t"}
    (plain,) = ops.webhook_secret_problems(values.get, lambda k: False, "prod")
    assert plain.startswith(f"{hook} is set in plain text"), plain
    assert ops.webhook_secret_problems(values.get, lambda k: k == hook, "prod") == []


# --------------------------------------------------------------------------- streaming SLOs on gold

SQL_ALERT = "databricks:index/alertV2:AlertV2"
DESTINATION = "databricks:index/notificationDestination:NotificationDestination"


def test_gold_slo_alerts_mail_the_on_call_at_the_configured_objectives(stack_plan: Plan) -> None:
    """Freshness and latency p99 over the gold table, thresholds from operations.slo, to the group's addresses."""
    from stack_config.loader import parse_stack_config

    config = parse_stack_config(raw_stack_config(stack_plan.stack), stack_plan.stack)
    ops = config.operations
    assert ops is not None
    capacity_p99 = config.capacity.p99_latency_seconds if config.capacity else None
    destination = stack_plan.one(DESTINATION, "serving-dashboards-slo-email")
    assert destination.inputs["config"] == {"email": {"addresses": list(ops.action_group.emails)}}
    catalog = only(stack_plan, "databricks:index/catalog:Catalog").inputs["name"]
    table = f"`{catalog}`.`gold`.`symbol_window_metrics`"
    alerts = {
        a.name.removeprefix("serving-dashboards-slo-"): a
        for a in stack_plan.of_type(SQL_ALERT)
        if a.name.startswith("serving-dashboards-slo-")
    }
    expected = {
        "freshness": ("staleness_seconds", float(ops.slo.freshness_seconds), "TRIGGERED"),
        "latencyP99": ("latency_p99_seconds", ops.slo.p99_latency(capacity_p99), "OK"),
        "quality": ("quality_pct", ops.slo.min_quality_percent, "OK"),
    }
    assert set(alerts) == set(expected)
    for key, (column, threshold, empty) in expected.items():
        evaluation = alerts[key].inputs["evaluation"]
        assert evaluation["source"] == {"name": column}, key
        assert evaluation["comparisonOperator"] == ("LESS_THAN" if key == "quality" else "GREATER_THAN"), key
        assert evaluation["threshold"] == {"value": {"doubleValue": threshold}}, key
        assert evaluation["emptyResultState"] == empty, key
        assert evaluation["notification"]["subscriptions"] == [{"destinationId": destination.id}], key
    assert f"FROM {table}" in alerts["freshness"].inputs["queryText"]
    assert "MAX(`last_event_time`)" in alerts["freshness"].inputs["queryText"]
    # Latency: what the jobs published (pipeline_metrics), not re-derived from the gold rows.
    latency = alerts["latencyP99"].inputs["queryText"]
    assert f"FROM `{catalog}`.`gold`.`{METRICS_TABLE}` WHERE stage = 'gold'" in latency and table not in latency
    assert f"INTERVAL {ops.slo.latency_window_minutes} MINUTES" in latency
    # Quality: the gold data-quality view, never silver's tables directly.
    quality = alerts["quality"].inputs["queryText"]
    assert f"FROM `{catalog}`.`gold`.`{QUALITY_VIEW}` WHERE" in quality and "`silver`" not in quality
    assert f"INTERVAL {ops.slo.latency_window_minutes} MINUTES" in quality


def test_the_latency_objective_is_the_slo_section_s_else_the_capacity_model_s() -> None:
    from stack_config.operations import DEFAULT_P99_LATENCY_SECONDS, SloConfig

    assert SloConfig.model_validate({"p99LatencySeconds": 2.5}).p99_latency(4.0) == 2.5
    assert SloConfig().p99_latency(4.0) == 4.0
    assert SloConfig().p99_latency(None) == DEFAULT_P99_LATENCY_SECONDS


def test_no_slo_alerts_without_operations() -> None:
    from layers.serving import slo_alerts_args
    from stack_config.loader import parse_stack_config

    raw = raw_stack_config("dev")
    assert slo_alerts_args(parse_stack_config(raw, "dev")) is not None
    del raw["operations"]
    assert slo_alerts_args(parse_stack_config(raw, "dev")) is None


def test_the_freshness_figure_on_the_gold_database_is_the_newest_event_s_age(tmp_path: Any) -> None:
    """The freshness query, rendered for SQLite, over rows the gold upsert writes: now minus the newest
    `last_event_time`; an empty table has no figure (the latency figure is the jobs' own: pipeline_metrics,
    checked in tests/streaming/test_pipeline_health_sql.py and against the local run in test_pipeline.py)."""
    from datetime import UTC, datetime, timedelta

    from components.serving_dashboards import freshness_query
    from streaming_jobs.serving.connections import SqliteSession
    from streaming_jobs.serving.migrate import migrate
    from streaming_jobs.serving.schema import GOLD_TABLES
    from streaming_jobs.serving.upsert import GoldBatch, apply_batch

    now = datetime.now(UTC)
    ts = lambda t: t.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]  # noqa: E731
    # 40 rows in the window, latencies 0.25 s .. 10 s, newest event 90 s ago; one old row outside the window.
    latencies = [0.25 * (i + 1) for i in range(40)]
    written = now - timedelta(seconds=60)
    columns = GOLD_TABLES["symbol_window_metrics"].column_names

    def row(symbol: str, updated: datetime, latency: float) -> tuple[Any, ...]:
        values = {
            "window_start": ts(updated - timedelta(minutes=2)),
            "window_end": ts(updated - timedelta(minutes=1)),
            "symbol": symbol,
            "batch_id": 3,
            "updated_at": ts(updated),
            "last_event_time": ts(updated - timedelta(seconds=latency)),
        }
        return tuple(values.get(c, 0) for c in columns)

    rows = [row(f"S{i:02d}", written - timedelta(seconds=30 - lat), lat) for i, lat in enumerate(latencies)]
    rows.append(row("OLD", now - timedelta(hours=2), 999.0))
    session = SqliteSession(tmp_path / "gold.db")
    try:
        migrate(session)
        assert session.query(freshness_query(dialect="sqlite")) == [], "an empty gold table has no figure"
        assert apply_batch(session, GoldBatch("gold_metrics", 3, {"symbol_window_metrics": rows}))
        ((staleness,),) = session.query(freshness_query(dialect="sqlite"))
        # Every in-window row's newest event is updated_at - latency = written - 30 s, i.e. 90 s before now.
        assert staleness == pytest.approx(90.0, abs=5)
    finally:
        session.close()


def test_the_pipeline_health_dashboard_is_run_by_the_engineers(stack_plan: Plan) -> None:
    """Its own Lakeview dashboard (one page, the pipeline visuals), on the serving warehouse."""
    import json

    from components.serving_dashboards import pipeline_health_visuals
    from stack_config.loader import parse_stack_config

    config = parse_stack_config(raw_stack_config(stack_plan.stack), stack_plan.stack)
    assert config.databricks is not None and config.databricks.grants.engineers
    dashboard = stack_plan.one("databricks:index/dashboard:Dashboard", "serving-dashboards-pipeline-dashboard")
    warehouse = only(stack_plan, "databricks:index/sqlEndpoint:SqlEndpoint")
    assert dashboard.inputs["warehouseId"] == warehouse.id and dashboard.inputs["embedCredentials"] is False
    document = json.loads(dashboard.inputs["serializedDashboard"])
    (page,) = document["pages"]
    assert page["name"] == "pipeline_health"
    expected = {v.key: v.sql for v in pipeline_health_visuals(window_minutes=60)}
    assert {d["name"].removeprefix("ds_"): d["queryLines"][0] for d in document["datasets"]} == expected
    assert {item["widget"]["name"].removeprefix("w_") for item in page["layout"]} == set(expected)
    permissions = {
        p.name: {(a.get("groupName"), a["permissionLevel"]) for a in p.inputs["accessControls"]}
        for p in stack_plan.of_type("databricks:index/permissions:Permissions")
    }
    engineers = set(config.databricks.grants.engineers)
    assert {g for g, _ in permissions["serving-dashboards-pipeline-dashboard-permissions"]} == engineers
    assert {(g, "CAN_USE") for g in engineers} <= permissions["serving-dashboards-warehouse-permissions"]


def test_the_page_and_the_alerts_read_the_objects_the_jobs_publish(stack_plan: Plan) -> None:
    """The quality tiles and the quality alert read one gold view, the latency, serving-lag, backlog and
    query-start tiles and the latency alert one metrics table: the names the jobs create them under
    (streaming_jobs/ops_metrics.py, the gold job's view DDL), in the schema every continuous job is told to
    publish to (--metrics-schema, the gold schema the dashboards resolve names in)."""
    import json

    from streaming_jobs.io.delta import gold_view_sql
    from streaming_jobs.manifest import JOBS

    dashboard = stack_plan.one("databricks:index/dashboard:Dashboard", "serving-dashboards-pipeline-dashboard")
    datasets = {
        d["name"].removeprefix("ds_"): d["queryLines"][0]
        for d in json.loads(dashboard.inputs["serializedDashboard"])["datasets"]
    }
    view, table = f"FROM `{QUALITY_VIEW}`", f"FROM `{METRICS_TABLE}`"
    assert {k for k, sql in datasets.items() if view in sql} == {"data_quality", "quarantine_by_reason"}
    assert {k for k, sql in datasets.items() if table in sql} == {"latency", "serving_lag", "backlog", "query_starts"}
    assert dashboard.inputs["datasetSchema"] == "gold"
    alerts = {a.name: a.inputs["queryText"] for a in stack_plan.of_type(SQL_ALERT)}
    assert f"`gold`.`{QUALITY_VIEW}`" in alerts["serving-dashboards-slo-quality"]
    assert f"`gold`.`{METRICS_TABLE}`" in alerts["serving-dashboards-slo-latencyP99"]
    # The gold job creates that view in that schema; every streaming job publishes to that table there.
    assert any(f"`gold`.`{QUALITY_VIEW}` AS" in stmt for stmt in gold_view_sql("`c`.`gold`", "`c`.`silver`"))
    jobs = {j.inputs["name"]: j for j in stack_plan.of_type("databricks:index/job:Job")}
    for key, spec in JOBS.items():
        (job,) = [j for name, j in jobs.items() if name.endswith(f"-{key}")]
        (task,) = job.inputs["tasks"]
        params = task["sparkPythonTask"]["parameters"]
        assert params[params.index("--metrics-schema") + 1] == "gold", spec.key


def test_key_vault_near_expiry_events_alert_the_action_group(stack_plan: Plan) -> None:
    # The alert before a rotation is due: Key Vault's SecretNearExpiry (30 days before a version's `exp`,
    # which the Confluent key secrets set to their rotate-by date) becomes an Azure Monitor alert.
    vault = only(stack_plan, TARGET_TYPES[Target.KEY_VAULT])
    topic = only(stack_plan, "azure-native:eventgrid:SystemTopic")
    assert topic.inputs["topicType"] == "Microsoft.KeyVault.vaults"
    assert vault.urn in topic.property_dependencies["source"]
    subscription = only(stack_plan, "azure-native:eventgrid:SystemTopicEventSubscription")
    assert topic.urn in subscription.property_dependencies["systemTopicName"]
    assert subscription.inputs["filter"]["includedEventTypes"] == [
        "Microsoft.KeyVault.SecretNearExpiry",
        "Microsoft.KeyVault.SecretExpired",
    ]
    destination = subscription.inputs["destination"]
    assert destination["endpointType"] == "MonitorAlert" and destination["severity"] == "Sev2"
    assert only(stack_plan, ACTION_GROUP).urn in subscription.property_dependencies["destination"]


def test_the_availability_slo_sets_the_availability_alerts_unless_a_stack_overrides_them() -> None:
    from stack_config.operations import SloConfig

    tied = {k: r for k, r in METRIC_ALERTS.items() if r.slo}
    assert set(tied) == {"storageAvailability", "keyVaultAvailability"}
    for rule in tied.values():  # the catalogue's documented default is the SLO's default
        assert rule.threshold == getattr(SloConfig(), rule.slo or "")
    raw = _prod_with(slo={"availabilityPercent": 99.5}, alerts={"storageAvailability": {"threshold": 98.0}})
    ops = parse_stack_config(raw, "prod").operations
    assert ops is not None
    resolved = {a.key: a.threshold for a in ops.resolved_alerts()}
    assert resolved["keyVaultAvailability"] == 99.5
    assert resolved["storageAvailability"] == 98.0, "an explicit override wins over the SLO"
