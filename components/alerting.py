"""Alerting: the platform's action group and the Azure Monitor alert rules that notify it.

- Action group (Microsoft.Insights/actionGroups): a global resource (location
  "Global"), email and webhook receivers, the common alert schema on
  (https://learn.microsoft.com/azure/azure-monitor/alerts/action-groups).
- Metric alerts (Microsoft.Insights/metricAlerts): one rule per watched metric on
  one resource, `location: global`, criteria of odata type
  `Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria` with a static
  threshold (https://learn.microsoft.com/azure/azure-monitor/alerts/alerts-metric-create-templates).
  Which metric, threshold and severity is the config's (stack_config/operations.py).
- Activity-log alerts (Microsoft.Insights/activityLogAlerts, API 2020-10-01,
  location "Global"), scoped to the resource group (scopes are id prefixes):
  deletes of the platform's key resources (category Administrative, the
  resource type's `/delete` operation), role-assignment writes and deletes, and
  Resource Health events (category ResourceHealth, currentHealthStatus Degraded
  or Unavailable), shaped as Azure Monitor Baseline Alerts ships them
  (services/KeyVault/vaults/alerts.yaml "Activity Log Key Vault Delete";
  services/Resources/subscriptions/alerts.yaml "Resource Health Unhealthy").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_azure_native import eventgrid, monitor

from components.base import CommonArgs, PlatformComponent

SINGLE_RESOURCE_CRITERIA = "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria"


@dataclass(frozen=True)
class WebhookReceiverArgs:
    name: str
    # A secret (the URL carries its token).
    service_uri: pulumi.Input[str]


@dataclass(frozen=True)
class MetricAlertSpec:
    """One metric alert on one resource: what it watches and when it fires."""

    key: str  # logical name, unique in the component
    scope: pulumi.Input[str]  # the watched resource's id
    namespace: str
    metric: str
    aggregation: monitor.AggregationTypeEnum
    operator: monitor.Operator
    threshold: float
    severity: int
    window_minutes: int
    frequency_minutes: int
    description: str
    dimensions: Sequence[tuple[str, Sequence[str]]] = ()
    # Further conditions that must hold as well (criteria `allOf`): (metric, aggregation, operator, threshold).
    also: Sequence[tuple[str, monitor.AggregationTypeEnum, monitor.Operator, float]] = ()


# The `<type>/delete` operations of the resources a platform cannot lose unnoticed.
KEY_RESOURCE_DELETES = (
    "Microsoft.KeyVault/vaults/delete",
    "Microsoft.Storage/storageAccounts/delete",
    "Microsoft.Sql/servers/delete",
    "Microsoft.Sql/servers/databases/delete",
    "Microsoft.EventHub/namespaces/delete",
    "Microsoft.Databricks/workspaces/delete",
    "Microsoft.OperationalInsights/workspaces/delete",
    "Microsoft.Network/virtualNetworks/delete",
    "Microsoft.Network/azureFirewalls/delete",
)
ROLE_ASSIGNMENT_CHANGES = (
    "Microsoft.Authorization/roleAssignments/write",
    "Microsoft.Authorization/roleAssignments/delete",
)


@dataclass(frozen=True)
class LogAlertSpec:
    """A log (scheduled query) alert over the platform workspace: the query yields one measure column."""

    key: str
    workspace_id: pulumi.Input[str]
    query: pulumi.Input[str]
    measure_column: str
    threshold: float
    severity: int
    window_minutes: int
    frequency_minutes: int
    description: str


@dataclass(frozen=True)
class SecretExpiryAlertArgs:
    """Key Vault's own near-expiry events, raised as Azure Monitor alerts to the action group.

    Key Vault publishes `Microsoft.KeyVault.SecretNearExpiry` 30 days before a secret version's `exp` and
    `SecretExpired` at it, through an Event Grid system topic on the vault; Event Grid delivers Key Vault
    events (only those) straight to Azure Monitor alerts with action groups (destination `MonitorAlert`).
    Sources: https://learn.microsoft.com/azure/key-vault/general/event-grid-overview (the events; only
    versions created after the subscription exists are notified);
    https://learn.microsoft.com/azure/event-grid/event-handlers ("Azure Monitor alerts (from Azure Key Vault
    source only)"). The Confluent API key secrets carry their rotate-by date as `exp`
    (components/confluent_ingestion.py), so this is the alert before a rotation is due.
    """

    vault_id: pulumi.Input[str]
    topic_name: str
    severity: eventgrid.MonitorAlertSeverity = eventgrid.MonitorAlertSeverity.SEV2


@dataclass(frozen=True)
class AlertingArgs:
    common: CommonArgs
    action_group_name: str
    short_name: str
    emails: Sequence[str]
    webhooks: Sequence[WebhookReceiverArgs] = ()
    metric_alerts: Sequence[MetricAlertSpec] = ()
    # Prefix of every rule's Azure name (rule names are unique per resource group).
    rule_prefix: str = ""
    # Scope of the activity-log alerts (the resource group's id); None = none of them.
    activity_log_scope: pulumi.Input[str] | None = None
    log_alerts: Sequence[LogAlertSpec] = ()
    secret_expiry: SecretExpiryAlertArgs | None = None


def iso_minutes(minutes: int) -> str:
    """PT5M, PT1H, P1D: the ISO-8601 durations metricAlerts accept."""
    if minutes == 1440:
        return "P1D"
    if minutes % 60 == 0:
        return f"PT{minutes // 60}H"
    return f"PT{minutes}M"


class Alerting(PlatformComponent):
    """The action group and the metric alerts wired to it."""

    def __init__(self, name: str, args: AlertingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("Alerting", name, args.common, opts)
        if not args.emails and not args.webhooks:
            raise ValueError(f"{name}: the action group needs at least one receiver")
        keys = [a.key for a in args.metric_alerts]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{name}: duplicate metric alert keys {keys}")
        self.action_group = monitor.ActionGroup(
            f"{name}-ag",
            action_group_name=args.action_group_name,
            resource_group_name=args.common.resource_group_name,
            location="Global",
            group_short_name=args.short_name,
            enabled=True,
            email_receivers=[
                monitor.MicrosoftCommonEmailReceiverArgs(
                    name=f"email-{i}", email_address=email, use_common_alert_schema=True
                )
                for i, email in enumerate(args.emails)
            ],
            webhook_receivers=[
                monitor.WebhookReceiverArgs(name=w.name, service_uri=w.service_uri, use_common_alert_schema=True)
                for w in args.webhooks
            ],
            tags=dict(self.tags),
            opts=self._opts(),
        )
        self.action_group_id: pulumi.Output[str] = self.action_group.id
        self.metric_alerts: dict[str, monitor.MetricAlert] = {
            spec.key: self._metric_alert(name, spec, args.rule_prefix) for spec in args.metric_alerts
        }
        self.log_alerts: dict[str, monitor.ScheduledQueryRule] = {
            spec.key: self._log_alert(name, spec, args.rule_prefix) for spec in args.log_alerts
        }
        self.activity_log_alerts: dict[str, monitor.ActivityLogAlert] = {}
        if args.activity_log_scope is not None:
            self._activity_log_alerts(name, args.activity_log_scope, args.rule_prefix)
        self.secret_expiry: eventgrid.SystemTopicEventSubscription | None = None
        if args.secret_expiry is not None:
            self.secret_expiry = self._secret_expiry_alerts(name, args.secret_expiry)
        self.register_outputs(
            {
                "action_group_id": self.action_group_id,
                "metric_alerts": sorted(self.metric_alerts),
                "activity_log_alerts": sorted(self.activity_log_alerts),
                "log_alerts": sorted(self.log_alerts),
            }
        )

    def _rule_basics(self, spec: MetricAlertSpec | LogAlertSpec, prefix: str) -> dict[str, Any]:
        """What a metric alert and a log alert rule share: name, severity, cadence, auto-resolve."""
        return {
            "rule_name": f"{prefix}{spec.key}",
            "resource_group_name": self._common.resource_group_name,
            "description": spec.description,
            "severity": spec.severity,
            "enabled": True,
            "evaluation_frequency": iso_minutes(spec.frequency_minutes),
            "window_size": iso_minutes(spec.window_minutes),
            "auto_mitigate": True,
        }

    def _log_alert(self, name: str, spec: LogAlertSpec, prefix: str) -> monitor.ScheduledQueryRule:
        """A LogAlert rule (Microsoft.Insights/scheduledQueryRules) on the workspace, notifying the action group.

        The condition operator is the ARM value "GreaterThan" (scheduledQueryRules Condition.operator:
        Equals, GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual; AMBA's log alerts use the
        same). azure-native 3.29's `monitor.ConditionOperator`, the type the SDK names for it, holds
        another schema's filter operators ("eq", "gt", ...); `monitor.Operator`, the metric alerts'
        enum, holds exactly the ARM values, so it is the one passed.
        """
        return monitor.ScheduledQueryRule(
            f"{name}-{spec.key}",
            location=self._common.location,
            kind=monitor.Kind.LOG_ALERT,
            scopes=[spec.workspace_id],
            **self._rule_basics(spec, prefix),
            criteria=monitor.ScheduledQueryRuleCriteriaArgs(
                all_of=[
                    monitor.ConditionArgs(
                        query=spec.query,
                        time_aggregation=monitor.TimeAggregation.TOTAL,
                        metric_measure_column=spec.measure_column,
                        operator=monitor.Operator.GREATER_THAN,
                        threshold=spec.threshold,
                        failing_periods=monitor.ConditionFailingPeriodsArgs(
                            number_of_evaluation_periods=1, min_failing_periods_to_alert=1
                        ),
                    )
                ]
            ),
            actions=monitor.ActionsArgs(action_groups=[self.action_group.id]),
            tags=dict(self.tags),
            opts=self._opts(),
        )

    def _secret_expiry_alerts(self, name: str, spec: SecretExpiryAlertArgs) -> eventgrid.SystemTopicEventSubscription:
        """The vault's system topic and one subscription that turns near-expiry and expiry into alerts."""
        c = self._common
        topic = eventgrid.SystemTopic(
            f"{name}-vault-events",
            system_topic_name=spec.topic_name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            source=spec.vault_id,
            topic_type="Microsoft.KeyVault.vaults",
            tags=dict(self.tags),
            opts=self._opts(),
        )
        return eventgrid.SystemTopicEventSubscription(
            f"{name}-secret-expiry",
            event_subscription_name="secret-expiry",
            system_topic_name=topic.name,
            resource_group_name=c.resource_group_name,
            event_delivery_schema=eventgrid.EventDeliverySchema.CLOUD_EVENT_SCHEMA_V1_0,
            filter=eventgrid.EventSubscriptionFilterArgs(
                included_event_types=["Microsoft.KeyVault.SecretNearExpiry", "Microsoft.KeyVault.SecretExpired"]
            ),
            destination=eventgrid.MonitorAlertEventSubscriptionDestinationArgs(
                endpoint_type="MonitorAlert",
                action_groups=[self.action_group.id],
                severity=spec.severity,
                description="A Key Vault secret expires within 30 days (or has expired): rotate it "
                "(docs/confluent.md, rotation runbook)",
            ),
            opts=self._opts(depends_on=[topic]),
        )

    def _activity_log_alerts(self, name: str, scope: pulumi.Input[str], prefix: str) -> None:
        leaf = monitor.AlertRuleAnyOfOrLeafConditionArgs
        any_operation = monitor.AlertRuleLeafConditionArgs
        administrative = leaf(field="category", equals="Administrative")
        rules = {
            "keyResourceDeleted": (
                "A key platform resource (vault, lake, SQL, Event Hubs, Databricks, Log Analytics, VNet, firewall) "
                "was deleted",
                [
                    administrative,
                    leaf(any_of=[any_operation(field="operationName", equals=op) for op in KEY_RESOURCE_DELETES]),
                ],
            ),
            "roleAssignmentChanged": (
                "A role assignment in the platform's resource group was created or removed",
                [
                    administrative,
                    leaf(any_of=[any_operation(field="operationName", equals=op) for op in ROLE_ASSIGNMENT_CHANGES]),
                ],
            ),
            "resourceUnhealthy": (
                "Resource Health: a platform resource is Degraded or Unavailable",
                [
                    leaf(field="category", equals="ResourceHealth"),
                    leaf(
                        any_of=[
                            any_operation(field="properties.currentHealthStatus", equals=status)
                            for status in ("Degraded", "Unavailable")
                        ]
                    ),
                ],
            ),
        }
        for key, (description, conditions) in rules.items():
            self.activity_log_alerts[key] = monitor.ActivityLogAlert(
                f"{name}-{key}",
                activity_log_alert_name=f"{prefix}{key}",
                resource_group_name=self._common.resource_group_name,
                location="Global",
                description=description,
                enabled=True,
                scopes=[scope],
                condition=monitor.AlertRuleAllOfConditionArgs(all_of=conditions),
                actions=monitor.ActionListArgs(
                    action_groups=[monitor.ActionGroupArgs(action_group_id=self.action_group.id)]
                ),
                tags=dict(self.tags),
                opts=self._opts(),
            )

    def _metric_alert(self, name: str, spec: MetricAlertSpec, prefix: str) -> monitor.MetricAlert:
        return monitor.MetricAlert(
            f"{name}-{spec.key}",
            location="global",
            scopes=[spec.scope],
            **self._rule_basics(spec, prefix),
            criteria=monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs(
                odata_type=SINGLE_RESOURCE_CRITERIA,
                all_of=[
                    _criterion(
                        spec.namespace, spec.metric, spec.aggregation, spec.operator, spec.threshold, spec.dimensions
                    ),
                    *(_criterion(spec.namespace, *condition) for condition in spec.also),
                ],
            ),
            actions=[monitor.MetricAlertActionArgs(action_group_id=self.action_group.id)],
            tags=dict(self.tags),
            opts=self._opts(),
        )


def _criterion(
    namespace: str,
    metric: str,
    aggregation: monitor.AggregationTypeEnum,
    operator: monitor.Operator,
    threshold: float,
    dimensions: Sequence[tuple[str, Sequence[str]]] = (),
) -> monitor.MetricCriteriaArgs:
    """One static-threshold condition of a metric alert's `allOf` list (Include-only dimension filters)."""
    return monitor.MetricCriteriaArgs(
        criterion_type=monitor.CriterionType.STATIC_THRESHOLD_CRITERION,
        name=metric,
        metric_name=metric,
        metric_namespace=namespace,
        operator=operator,
        threshold=threshold,
        time_aggregation=aggregation,
        dimensions=[
            monitor.MetricDimensionArgs(name=dim, operator="Include", values=list(values)) for dim, values in dimensions
        ]
        or None,
    )
