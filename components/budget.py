"""A monthly cost budget on the stack's resource group, notifying the action group.

Microsoft.Consumption/budgets (API 2024-08-01, the azure-native `consumption.Budget`;
Azure/azure-rest-api-specs specification/consumption, `Budget`, `BudgetTimePeriod`,
`Notification`), as its reference states:

- the start date is the first of a month, at most twelve months ahead, and a past
  start date must lie within the current time grain (this month, for Monthly): so a
  start date fixed in a stack file stops being creatable a month later. Unless the
  config names one, the budget starts on the first of the month it is created in,
  and `timePeriod` is ignored afterwards (the budget keeps its original start);
- a budget has at most five notifications, each threshold a percent in (0, 1000],
  actual or forecasted;
- action groups (`contactGroups`, full resource ids) are accepted at subscription
  and resource-group scope, so no e-mail list is needed besides the action group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pulumi
from pulumi_azure_native import consumption

from components.base import CommonArgs, PlatformComponent


@dataclass(frozen=True)
class BudgetArgs:
    common: CommonArgs
    budget_name: str
    scope: pulumi.Input[str]  # the resource group's id
    amount: float
    action_group_id: pulumi.Input[str]
    actual_thresholds: Sequence[float]
    forecast_thresholds: Sequence[float]
    start_date: date | None = None


def first_of_this_month() -> date:
    return datetime.now(UTC).date().replace(day=1)


class CostBudget(PlatformComponent):
    """The budget and its notifications."""

    def __init__(self, name: str, args: BudgetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("CostBudget", name, args.common, opts)
        thresholds = [
            *((consumption.ThresholdType.ACTUAL, t) for t in args.actual_thresholds),
            *((consumption.ThresholdType.FORECASTED, t) for t in args.forecast_thresholds),
        ]
        if not 1 <= len(thresholds) <= 5:
            raise ValueError(f"{name}: a budget has 1 to 5 notifications, not {len(thresholds)}")
        start = args.start_date or first_of_this_month()
        self.budget = consumption.Budget(
            f"{name}-budget",
            budget_name=args.budget_name,
            scope=args.scope,
            amount=args.amount,
            category=consumption.CategoryType.COST,
            time_grain=consumption.TimeGrainType.MONTHLY,
            time_period=consumption.BudgetTimePeriodArgs(start_date=f"{start.isoformat()}T00:00:00Z"),
            notifications={
                f"{kind.value.lower()}-{threshold:g}": consumption.NotificationArgs(
                    enabled=True,
                    operator=consumption.OperatorType.GREATER_THAN,
                    threshold=threshold,
                    threshold_type=kind,
                    contact_emails=[],
                    contact_groups=[args.action_group_id],
                    locale=consumption.CultureCode.EN_US,
                )
                for kind, threshold in thresholds
            },
            opts=self._opts(ignore_changes=["timePeriod"]),
        )
        self.register_outputs({"budget_id": self.budget.id})
