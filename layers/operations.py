"""Operations: the action group, the alerts on every store and service, and the cost budget.

Composed last: it watches what the layers before it built. Each catalogued
alert (stack_config/operations.py) is created when the stack has its target
(no Event Hubs alerts on a Confluent stack, no capture-backlog alert without
capture), with the stack's overrides applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_azure_native import monitor

from components.alerting import (
    Alerting,
    AlertingArgs,
    LogAlertSpec,
    MetricAlertSpec,
    SecretExpiryAlertArgs,
    WebhookReceiverArgs,
)
from components.budget import BudgetArgs, CostBudget
from layers.foundation import Foundation
from layers.ingestion import Ingestion
from layers.placement import Placement
from layers.processing import Storage
from layers.serving import Database
from stack_config import StackConfig
from stack_config.operations import OperationsConfig, ResolvedAlert, Target


@dataclass(frozen=True)
class Operations:
    alerting: Alerting | None
    budget: CostBudget | None = None

    @property
    def outputs(self) -> dict[str, Any]:
        if self.alerting is None:
            return {}
        return {"actionGroupId": self.alerting.action_group_id}


def build_operations(
    config: StackConfig, place: Placement, foundation: Foundation, storage: Storage, database: Database,
    ingestion: Ingestion,
) -> Operations:  # fmt: skip
    ops = config.operations
    if ops is None:
        return Operations(None)
    targets: dict[Target, pulumi.Input[str]] = {
        Target.DATA_LAKE: storage.lake.account_id,
        Target.KEY_VAULT: foundation.vault.vault_id,
    }
    if ingestion.event_hubs is not None:
        targets[Target.EVENT_HUBS] = ingestion.event_hubs.namespace.id
    if database.sql is not None:
        targets[Target.SQL_DATABASE] = database.sql.database.id
    hub = foundation.hub
    if hub is not None and hub.firewall is not None:
        targets[Target.FIREWALL] = hub.firewall.id
    features = {"capture"} if config.event_hubs is not None and config.event_hubs.capture.enabled else set()
    alerting = Alerting(
        place.name("alerting"),
        AlertingArgs(
            common=foundation.common,
            action_group_name=foundation.naming.name("ag"),
            short_name=ops.action_group.short_name,
            emails=ops.action_group.emails,
            webhooks=webhooks(ops),
            metric_alerts=metric_alert_specs(ops, targets, features),
            rule_prefix=foundation.naming.name("alert") + "-",
            activity_log_scope=foundation.resource_group.id,
            log_alerts=log_alert_specs(ops, foundation.monitoring.workspace_id, targets.get(Target.EVENT_HUBS)),
            secret_expiry=SecretExpiryAlertArgs(
                vault_id=foundation.vault.vault_id, topic_name=foundation.naming.name("egst", qualifier="kv")
            ),
        ),
        place.opts(),
    )
    budget = None
    if ops.budget is not None:
        budget = CostBudget(
            place.name("budget"),
            BudgetArgs(
                common=foundation.common,
                budget_name=foundation.naming.name("budget"),
                scope=foundation.resource_group.id,
                amount=ops.budget.amount,
                action_group_id=alerting.action_group_id,
                actual_thresholds=ops.budget.actual_thresholds,
                forecast_thresholds=ops.budget.forecast_thresholds,
                start_date=ops.budget.start_date,
            ),
            place.opts(),
        )
    return Operations(alerting, budget)


def webhooks(ops: OperationsConfig) -> list[WebhookReceiverArgs]:
    """Each webhook's URL from its secret config key (never in the stack file in clear)."""
    receivers = []
    for hook in ops.action_group.webhooks:
        namespace, key = hook.url_secret.split(":", 1)
        receivers.append(WebhookReceiverArgs(hook.name, pulumi.Config(namespace).require_secret(key)))
    return receivers


def metric_alert_specs(
    ops: OperationsConfig, targets: dict[Target, pulumi.Input[str]], features: set[str]
) -> list[MetricAlertSpec]:
    """The enabled catalogued alerts whose target this stack has, as component specs."""
    return [
        _spec(alert, targets[alert.rule.target])
        for alert in ops.resolved_alerts()
        if alert.rule.target in targets and (alert.rule.needs is None or alert.rule.needs in features)
    ]


def _spec(alert: ResolvedAlert, scope: pulumi.Input[str]) -> MetricAlertSpec:
    rule = alert.rule
    return MetricAlertSpec(
        key=alert.key,
        scope=scope,
        namespace=rule.namespace,
        metric=rule.metric,
        aggregation=monitor.AggregationTypeEnum(rule.aggregation),
        operator=monitor.Operator(rule.operator),
        threshold=alert.threshold,
        severity=alert.severity,
        window_minutes=alert.window_minutes,
        frequency_minutes=alert.frequency_minutes,
        description=rule.description,
        dimensions=rule.dimensions,
        also=[
            (
                rule.guard.metric,
                monitor.AggregationTypeEnum(rule.guard.aggregation),
                monitor.Operator(rule.guard.operator),
                rule.guard.threshold,
            )
        ]
        if rule.guard
        else [],
    )


def consumer_lag_query(namespace_id: str) -> str:
    """Messages in minus messages out of one namespace over the rule's window, from AzureMetrics.

    The namespace's diagnostic setting sends AllMetrics to the workspace, where platform metrics land in
    the AzureMetrics table (MetricName, Total, ResourceId;
    https://learn.microsoft.com/azure/azure-monitor/reference/tables/azuremetrics); IncomingMessages and
    OutgoingMessages are exportable (supported-metrics reference, "DS Export: Yes"). ResourceId is stored
    upper-case, hence `=~`. OutgoingMessages counts every reader, so a second consumer group (ops-debug)
    reading makes the lag read low, never high.
    """
    return (
        "AzureMetrics\n"
        f'| where ResourceId =~ "{namespace_id}"\n'
        '| where MetricName in ("IncomingMessages", "OutgoingMessages")\n'
        '| summarize incoming = sumif(Total, MetricName == "IncomingMessages"), '
        'outgoing = sumif(Total, MetricName == "OutgoingMessages")\n'
        "| extend lag = incoming - outgoing"
    )


def log_alert_specs(
    ops: OperationsConfig, workspace_id: pulumi.Input[str], event_hubs_id: pulumi.Input[str] | None
) -> list[LogAlertSpec]:
    if event_hubs_id is None:
        return []
    lag = ops.consumer_lag
    return [
        LogAlertSpec(
            key="eventHubsConsumerLag",
            workspace_id=workspace_id,
            query=pulumi.Output.from_input(event_hubs_id).apply(consumer_lag_query),
            measure_column="lag",
            threshold=lag.threshold,
            severity=lag.severity,
            window_minutes=lag.window_minutes,
            frequency_minutes=5,
            description=f"Event Hubs consumer lag: more than {lag.threshold} messages in than out "
            f"over {lag.window_minutes} minutes (the bronze job falls behind)",
        )
    ]
