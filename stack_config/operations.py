"""Stack config for operations (`rta-platform:operations`): who is told, which alerts fire at what, budget.

The alert catalog (`METRIC_ALERTS`) is data: each rule names the Azure Monitor
metric it watches, on which platform resource, with a default threshold,
severity and window. A stack overrides any of them by key under
`operations.alerts` (unknown keys are errors); prod ships the defaults.

Every metric name, namespace and aggregation below is the one Microsoft's
supported-metrics reference lists for the resource type
(https://learn.microsoft.com/azure/azure-monitor/reference/supported-metrics/metrics-index:
microsoft-eventhub-namespaces-metrics, microsoft-sql-servers-databases-metrics,
microsoft-storage-storageaccounts-metrics, microsoft-keyvault-vaults-metrics,
microsoft-network-azurefirewalls-metrics); the default
thresholds follow Azure Monitor Baseline Alerts (github.com/Azure/azure-monitor-baseline-alerts,
services/<namespace>/alerts.yaml) unless a comment says why not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from stack_config.section import Email, Section, secret_setting_problems

# Action group short names are at most 12 characters (ARM: groupShortName maxLength 12).
ShortName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,11}$")]
ReceiverName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,63}$")]
ConfigKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-zA-Z0-9-]*:[A-Za-z][A-Za-z0-9]*$")]

# Metric alerts evaluate every PT1M..PT1H over a window of PT1M..P1D, the window no shorter than
# the frequency (Microsoft.Insights/metricAlerts evaluationFrequency / windowSize;
# https://learn.microsoft.com/azure/azure-monitor/alerts/alerts-metric-create-templates).
FREQUENCY_MINUTES = (1, 5, 15, 30, 60)
WINDOW_MINUTES = (1, 5, 15, 30, 60, 360, 720, 1440)


class Target(StrEnum):
    """The platform resource a rule watches (the layer resolves each to a resource id)."""

    EVENT_HUBS = "eventHubs"
    SQL_DATABASE = "sqlDatabase"
    DATA_LAKE = "dataLake"
    KEY_VAULT = "keyVault"
    FIREWALL = "firewall"  # the hub's Azure Firewall, when this stack creates it


@dataclass(frozen=True)
class MetricGuard:
    """A second static condition on the same resource that must hold too: the alert's criteria are an
    `allOf` list (Microsoft.Insights/metricAlerts, SingleResourceMultipleMetricCriteria: "the list of metric
    criteria for this 'all of' operation"), so the rule fires only while both conditions are true."""

    metric: str
    aggregation: Literal["Average", "Minimum", "Maximum", "Total", "Count"]
    operator: Literal["GreaterThan", "GreaterThanOrEqual", "LessThan", "LessThanOrEqual"]
    threshold: float


@dataclass(frozen=True)
class MetricRule:
    """One catalogued metric alert: what it watches and its defaults."""

    target: Target
    namespace: str
    metric: str
    aggregation: Literal["Average", "Minimum", "Maximum", "Total", "Count"]
    operator: Literal["GreaterThan", "GreaterThanOrEqual", "LessThan", "LessThanOrEqual"]
    threshold: float
    severity: int
    window_minutes: int
    frequency_minutes: int
    description: str
    # (dimension, values) filters, Include only.
    dimensions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # A rule that applies only when the stack has the feature (e.g. Event Hubs capture).
    needs: str | None = None
    # The SloConfig field whose value is this rule's default threshold (the catalogue's `threshold` is that
    # field's default); an override's threshold still wins.
    slo: str | None = None
    # A condition that must hold as well (same window), e.g. "while messages still come in".
    guard: MetricGuard | None = None


_EH, _SQL, _ST, _KV, _AFW = (
    "Microsoft.EventHub/namespaces",
    "Microsoft.Sql/servers/databases",
    "Microsoft.Storage/storageAccounts",
    "Microsoft.KeyVault/vaults",
    "Microsoft.Network/azureFirewalls",
)

METRIC_ALERTS: dict[str, MetricRule] = {
    # ---------------------------------------------------------------- Event Hubs namespace
    "eventHubsThrottledRequests": MetricRule(
        Target.EVENT_HUBS, _EH, "ThrottledRequests", "Total", "GreaterThan", 0, 2, 15, 5,
        "Event Hubs throttled requests: the namespace is at its throughput/processing-unit limit",
    ),
    "eventHubsServerErrors": MetricRule(
        Target.EVENT_HUBS, _EH, "ServerErrors", "Total", "GreaterThan", 5, 2, 5, 5,
        "Event Hubs server errors",
    ),
    # Consumers stopped reading while producers still write: nothing outgoing in the window while messages
    # came in. Without the guard an idle namespace (no trades at night or at weekends, dev between runs)
    # would page at severity 1 every window. (Lag as incoming minus outgoing is a log alert over
    # AzureMetrics, components/alerting.py.)
    "eventHubsNoOutgoing": MetricRule(
        Target.EVENT_HUBS, _EH, "OutgoingMessages", "Total", "LessThan", 1, 1, 15, 5,
        "Messages came into Event Hubs but none left in the window: the bronze job is not consuming",
        guard=MetricGuard("IncomingMessages", "Total", "GreaterThan", 0),
    ),
    # AMBA watches CaptureBacklog over 6 h; the platform wants to know within the hour.
    "eventHubsCaptureBacklog": MetricRule(
        Target.EVENT_HUBS, _EH, "CaptureBacklog", "Average", "GreaterThan", 10000, 3, 60, 15,
        "Event Hubs capture backlog: raw events are not reaching the landing container",
        needs="capture",
    ),
    # ---------------------------------------------------------------- Azure SQL gold database
    "sqlCpuPercent": MetricRule(
        Target.SQL_DATABASE, _SQL, "cpu_percent", "Average", "GreaterThan", 80, 2, 15, 5,
        "Gold database CPU above threshold (% of the SKU's limit)",
    ),
    "sqlLogIoPercent": MetricRule(
        Target.SQL_DATABASE, _SQL, "log_write_percent", "Average", "GreaterThan", 80, 2, 15, 5,
        "Gold database log IO above threshold: MERGE throughput is capped by log rate",
    ),
    "sqlStoragePercent": MetricRule(
        Target.SQL_DATABASE, _SQL, "storage_percent", "Maximum", "GreaterThan", 85, 2, 60, 15,
        "Gold database data space used above threshold (% of max size)",
    ),
    "sqlDeadlocks": MetricRule(
        Target.SQL_DATABASE, _SQL, "deadlock", "Total", "GreaterThan", 0, 3, 15, 5,
        "Deadlocks in the gold database",
    ),
    "sqlFailedConnections": MetricRule(
        Target.SQL_DATABASE, _SQL, "connection_failed", "Total", "GreaterThan", 5, 2, 5, 5,
        "Failed connections to the gold database (system errors)",
    ),
    # ---------------------------------------------------------------- Data lake (ADLS Gen2)
    # AMBA alerts below 100 % over 1 minute; 99.9 over 15 minutes pages on sustained loss only.
    "storageAvailability": MetricRule(
        Target.DATA_LAKE, _ST, "Availability", "Average", "LessThan", 99.9, 1, 15, 5,
        "Data lake availability below threshold (%)",
        slo="availability_percent",
    ),
    "storageE2ELatency": MetricRule(
        Target.DATA_LAKE, _ST, "SuccessE2ELatency", "Average", "GreaterThan", 1000, 3, 15, 5,
        "Data lake end-to-end latency of successful requests above threshold (ms)",
    ),
    # Throttled requests: Transactions whose ResponseType is ClientThrottlingError or ServerBusyError
    # (Microsoft's ThrottlingError mapping, https://learn.microsoft.com/azure/storage/common/storage-metrics-migration).
    "storageThrottling": MetricRule(
        Target.DATA_LAKE, _ST, "Transactions", "Total", "GreaterThan", 0, 2, 15, 5,
        "Data lake requests throttled",
        dimensions=(("ResponseType", ("ServerBusyError", "ClientThrottlingError")),),
    ),
    # ---------------------------------------------------------------- Key Vault
    "keyVaultAvailability": MetricRule(
        Target.KEY_VAULT, _KV, "Availability", "Average", "LessThan", 99.9, 1, 15, 5,
        "Key Vault availability below threshold (%): CMK unwraps and secret reads fail",
        slo="availability_percent",
    ),
    "keyVaultSaturation": MetricRule(
        Target.KEY_VAULT, _KV, "SaturationShoebox", "Average", "GreaterThan", 75, 2, 5, 5,
        "Key Vault saturation above threshold (% of the vault's request capacity)",
    ),
    # ---------------------------------------------------------------- Azure Firewall (hub-spoke stacks)
    # As AMBA ships them (services/Network/azureFirewalls/alerts.yaml): health below 90 %, SNAT ports above 80 %,
    # over 5 minutes every minute (microsoft-network-azurefirewalls-metrics: FirewallHealth, SNATPortUtilization).
    "firewallHealth": MetricRule(
        Target.FIREWALL, _AFW, "FirewallHealth", "Average", "LessThan", 90, 0, 5, 1,
        "Azure Firewall health below threshold (%): the spoke's egress is degraded",
    ),
    "firewallSnatPortUtilization": MetricRule(
        Target.FIREWALL, _AFW, "SNATPortUtilization", "Average", "GreaterThan", 80, 1, 5, 1,
        "Azure Firewall outbound SNAT ports in use above threshold (%): new outbound connections will fail",
    ),
}  # fmt: skip


class AlertOverride(Section):
    """A stack's change to one catalogued alert; unset fields keep the catalogue's default."""

    enabled: bool = True
    threshold: float | None = None
    severity: int | None = Field(default=None, ge=0, le=4)
    window_minutes: int | None = None
    frequency_minutes: int | None = None

    def resolve(self, key: str, rule: MetricRule, slo: SloConfig | None = None) -> ResolvedAlert:
        """The rule with this override applied (an unset field keeps the default; 0 is a value, not unset).
        A rule tied to an SLO takes its default threshold from `slo`."""
        default = float(getattr(slo, rule.slo)) if slo is not None and rule.slo else rule.threshold
        return ResolvedAlert(
            key=key,
            rule=rule,
            threshold=default if self.threshold is None else self.threshold,
            severity=rule.severity if self.severity is None else self.severity,
            window_minutes=rule.window_minutes if self.window_minutes is None else self.window_minutes,
            frequency_minutes=rule.frequency_minutes if self.frequency_minutes is None else self.frequency_minutes,
        )


@dataclass(frozen=True)
class ResolvedAlert:
    key: str
    rule: MetricRule
    threshold: float
    severity: int
    window_minutes: int
    frequency_minutes: int


class WebhookConfig(Section):
    """A webhook receiver (chat, ITSM, pager). Its URL carries a token, so it is a Pulumi secret:
    `urlSecret` names the config key (`pulumi config set --secret <key> <url>`), never the URL."""

    name: ReceiverName
    url_secret: ConfigKey


class ActionGroupConfig(Section):
    short_name: ShortName
    emails: tuple[Email, ...] = ()
    webhooks: tuple[WebhookConfig, ...] = ()

    @model_validator(mode="after")
    def _someone_is_told(self) -> ActionGroupConfig:
        if not self.emails and not self.webhooks:
            raise ValueError("actionGroup needs at least one receiver (emails or webhooks)")
        names = [w.name for w in self.webhooks]
        if len(set(names)) != len(names):
            raise ValueError(f"actionGroup.webhooks has duplicate names: {names}")
        return self


class BudgetConfig(Section):
    """A monthly cost budget on the stack's resource group (Microsoft.Consumption/budgets)."""

    amount: float = Field(gt=0)
    # The first day of a month (the API refuses any other day); unset: the month the budget is
    # created in (a past start must lie in the current month, components/budget.py).
    start_date: date | None = None
    # Percent of the amount; actual spend and forecast each notify the action group.
    actual_thresholds: tuple[float, ...] = (80.0, 100.0)
    forecast_thresholds: tuple[float, ...] = (100.0,)

    @model_validator(mode="after")
    def _budget_rules(self) -> BudgetConfig:
        problems: list[str] = []
        if self.start_date is not None and self.start_date.day != 1:
            problems.append(f"budget.startDate {self.start_date.isoformat()} must be the first day of a month")
        thresholds = [*self.actual_thresholds, *self.forecast_thresholds]
        if not thresholds:
            problems.append("budget needs at least one of actualThresholds, forecastThresholds")
        # Notification thresholds are 0.01-1000 percent; at most five notifications per budget.
        bad = [t for t in thresholds if not 0 < t <= 1000]
        if bad:
            problems.append(f"budget thresholds {bad} must be in (0, 1000] percent")
        if len(thresholds) > 5:
            problems.append(f"budget has {len(thresholds)} notifications; Azure allows at most 5")
        for name, values in (
            ("actualThresholds", self.actual_thresholds),
            ("forecastThresholds", self.forecast_thresholds),
        ):
            if len(set(values)) != len(values):
                problems.append(f"budget.{name} has duplicates: {list(values)}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class ConsumerLagConfig(Section):
    """Event Hubs consumer lag: messages in minus messages out over the window (a log alert on AzureMetrics)."""

    threshold: int = Field(default=100000, ge=1)
    severity: int = Field(default=2, ge=0, le=4)
    window_minutes: Literal[5, 15, 30, 60] = 15


# Seed 001's latency objective: p99 under 5 s.
DEFAULT_P99_LATENCY_SECONDS = 5.0


class SloConfig(Section):
    """Streaming service-level objectives (seed 001: data fresher than 5 minutes, p99 latency under 5 s)."""

    # The continuous jobs' STREAMING_BACKLOG_SECONDS health rule and the gold freshness alert fire above this.
    freshness_seconds: int = Field(default=300, ge=30, le=86400)
    # The gold latency-p99 alert fires above this. Unset: capacity.p99LatencySeconds (the objective the
    # stack is sized for), else 5.
    p99_latency_seconds: float | None = Field(default=None, gt=0, le=3600)
    # The window the latency percentiles and the quality figure are taken over.
    latency_window_minutes: int = Field(default=15, ge=5, le=1440)
    # The data-quality alert fires below this share of accepted records (seed 001: 99.5 %).
    min_quality_percent: float = Field(default=99.5, gt=0, le=100)
    # The availability the stores are held to: the lake's and the vault's availability alerts fire below it.
    availability_percent: float = Field(default=99.9, gt=0, le=100)

    def p99_latency(self, capacity_p99: float | None) -> float:
        """The latency objective alerted on: this section's, else the capacity model's, else seed 001's."""
        if self.p99_latency_seconds is not None:
            return self.p99_latency_seconds
        return capacity_p99 if capacity_p99 is not None else DEFAULT_P99_LATENCY_SECONDS


class OperationsConfig(Section):
    """`rta-platform:operations`: the action group, alert overrides, the budget."""

    action_group: ActionGroupConfig
    alerts: dict[str, AlertOverride] = {}
    budget: BudgetConfig | None = None
    consumer_lag: ConsumerLagConfig = ConsumerLagConfig()
    slo: SloConfig = SloConfig()

    @model_validator(mode="after")
    def _known_alerts(self) -> OperationsConfig:
        problems: list[str] = []
        unknown = sorted(set(self.alerts) - set(METRIC_ALERTS))
        if unknown:
            problems.append(f"alerts has unknown keys {unknown}; known: {sorted(METRIC_ALERTS)}")
        for key, override in self.alerts.items():
            if key not in METRIC_ALERTS:
                continue
            resolved = override.resolve(key, METRIC_ALERTS[key], self.slo)
            window, frequency = resolved.window_minutes, resolved.frequency_minutes
            if window not in WINDOW_MINUTES:
                problems.append(f"alerts.{key}.windowMinutes {window} is not one of {list(WINDOW_MINUTES)}")
            if frequency not in FREQUENCY_MINUTES:
                problems.append(f"alerts.{key}.frequencyMinutes {frequency} is not one of {list(FREQUENCY_MINUTES)}")
            if window < frequency:
                problems.append(f"alerts.{key}: windowMinutes {window} is shorter than frequencyMinutes {frequency}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def resolved_alerts(self) -> list[ResolvedAlert]:
        """Every enabled catalogued alert with this stack's overrides applied, in catalogue order."""
        overrides = {key: self.alerts.get(key, AlertOverride()) for key in METRIC_ALERTS}
        return [o.resolve(key, METRIC_ALERTS[key], self.slo) for key, o in overrides.items() if o.enabled]

    def webhook_secret_problems(
        self, get: Callable[[str], object], is_secret: Callable[[str], bool], stack: str | None = None
    ) -> list[str]:
        """Each webhook's `urlSecret` key is set, and set as a secret: its URL carries a token."""
        keys = [w.url_secret for w in self.action_group.webhooks]
        return secret_setting_problems(keys, get, is_secret, "operations.actionGroup.webhooks names it", stack)

    def prod_problems(self) -> list[str]:
        """Prod is watched: the alerts on the stores stay on and the budget exists."""
        problems = []
        if self.budget is None:
            problems.append("operations.budget is required in prod")
        off = sorted(k for k, o in self.alerts.items() if not o.enabled)
        if off:
            problems.append(f"operations.alerts {off} must not be disabled in prod")
        return problems
