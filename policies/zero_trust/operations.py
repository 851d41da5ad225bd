"""Operations: a watched stack has an action group, alerts on its stores wired to it, and a budget (MO-04)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._core import AZ, Graph, Meta, Node, as_list, dig, first, is_unknown, stack_policy

ACTION_GROUP = AZ + "monitor:ActionGroup"
METRIC_ALERT = AZ + "monitor:MetricAlert"
ACTIVITY_ALERT = AZ + "monitor:ActivityLogAlert"
BUDGET = AZ + "consumption:Budget"
RESOURCE_GROUP = AZ + "resources:ResourceGroup"

STORAGE_ACCOUNT = AZ + "storage:StorageAccount"
# The stores (and the egress firewall) an operator must hear about: each needs a metric alert scoped to it.
# Storage accounts count when they are data lakes (hierarchical namespace); a flow-log or function account
# is not a store.
WATCHED_TYPES = [
    AZ + "keyvault:Vault",
    STORAGE_ACCOUNT,
    AZ + "sql:Database",
    AZ + "eventhub:Namespace",
    AZ + "network:AzureFirewall",
]


def _watched(node: Node) -> bool:
    return node.type != STORAGE_ACCOUNT or node.get("isHnsEnabled") is True


def _reaches(graph: Graph, node: Node, groups: list[Node], prop: str, ref: Any) -> bool:
    """Does `ref` (an action group id in `node`'s `prop`) point at one of the stack's action groups?"""
    return is_unknown(ref) or any(graph.refers_to(node, g, prop, ref) for g in groups)


def _notifies(graph: Graph, alert: Node, groups: list[Node], path: str) -> bool:
    """Does an alert's action list reach one of the stack's action groups (by dependency or id)?"""
    prop = path.split(".")[0]
    return any(
        is_unknown(action) or _reaches(graph, alert, groups, prop, dig(action, "actionGroupId"))
        for action in as_list(alert.get(path))
    )


def _scopes_target(graph: Graph, alert: Node, target: Node) -> bool:
    return any(is_unknown(s) or graph.refers_to(alert, target, "scopes", s) for s in as_list(alert.get("scopes")))


@stack_policy(
    Meta(
        name="operations-alerting",
        control="MO-04",
        service="monitoring",
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.ADVISORY,
        description=(
            "The stack has an action group, an enabled metric alert notifying it on every Key Vault, data lake "
            "(hierarchical-namespace storage account), SQL database, Event Hubs namespace and Azure Firewall it "
            "creates, activity-log alerts "
            "notifying it, and a cost budget whose notifications reach it. A stack with none of these fails: "
            "there is nothing to be told by."
        ),
        why=(
            "A platform nobody is told about fails silently: a throttled namespace, a full database or a deleted vault "
            "is found by the users, and runaway spend by the invoice."
        ),
        remediation=(
            "Set rta-platform:operations (action group receivers and a budget); the operations layer creates a "
            "monitor:MetricAlert per store with actions [{actionGroupId}], the activity-log alerts and a "
            "consumption:Budget with contactGroups [<action group id>]."
        ),
    )
)
def operations_alerting(graph: Graph, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    groups = graph.of_type(ACTION_GROUP)
    # Stack-wide findings are filed on the resource group, or else on the first resource.
    anchor = first(graph.of_type(RESOURCE_GROUP)) or first(graph.nodes)
    anchor_urn = anchor.urn if anchor else None
    if not groups:
        yield anchor_urn, "the stack has no action group: no alert can notify anyone."
    metric_alerts = [
        a
        for a in graph.of_type(METRIC_ALERT)
        if a.get("enabled") is not False and _notifies(graph, a, groups, "actions")
    ]
    if not metric_alerts:
        yield anchor_urn, "the stack has no enabled metric alert that notifies an action group."
    for target in filter(_watched, graph.of_type(*WATCHED_TYPES)):
        if not any(_scopes_target(graph, a, target) for a in metric_alerts):
            yield target.urn, f"{target.name!r} ({target.type}) has no metric alert notifying an action group."
    activity = [a for a in graph.of_type(ACTIVITY_ALERT) if _notifies(graph, a, groups, "actions.actionGroups")]
    if not activity:
        yield (
            anchor_urn,
            "no activity-log alert (deletes, role changes, health) notifies an action group.",
        )
    budgets = graph.of_type(BUDGET)
    if not budgets:
        yield anchor_urn, "the stack has no cost budget."
    for budget in budgets:
        notifications = budget.get("notifications") or {}
        if is_unknown(notifications):
            continue
        reaching = [
            n
            for n in (notifications.values() if isinstance(notifications, Mapping) else [])
            if isinstance(n, Mapping)
            and (
                as_list(n.get("contactEmails"))
                or any(_reaches(graph, budget, groups, "notifications", ref) for ref in as_list(n.get("contactGroups")))
            )
        ]
        if not reaching:
            yield budget.urn, f"budget {budget.name!r} has no notification that reaches anyone."


POLICIES = [operations_alerting]

__all__ = ["POLICIES"]
