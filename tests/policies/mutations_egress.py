"""Mutations for the issue-33 policies (registered into `tests.policies.mutations.MUTATIONS`)."""

from __future__ import annotations

from offline.plan import Plan, PlannedResource
from tests.policies.mutations import AZ, SA, edit, linked, mutation, pick, remove

SUBNET, RT = AZ + "network:Subnet", AZ + "network:RouteTable"


def _databricks(r: object) -> bool:
    return bool(getattr(r, "inputs", {}).get("delegations"))


@mutation("databricks-egress-through-firewall")
def _subnet_without_route_table(plan: Plan) -> bool:
    subnet = pick(plan, SUBNET, _databricks)
    if subnet is None or "routeTable" not in subnet.inputs:
        return False
    subnet.inputs.pop("routeTable")
    subnet.property_dependencies.pop("routeTable", None)
    return True


@mutation("no-internet-route-around-firewall")
def _internet_route(plan: Plan) -> bool:
    table = pick(plan, RT)
    if table is None:
        return False
    table.inputs.setdefault("routes", []).append(
        {"name": "shortcut", "addressPrefix": "20.0.0.0/8", "nextHopType": "Internet"}
    )
    return True


@mutation("firewall-policy-default-deny")
def _allow_any(plan: Plan) -> bool:
    group = pick(plan, AZ + "network:FirewallPolicyRuleCollectionGroup")
    if group is None:
        return False
    rules = group.inputs["ruleCollections"][-1]["rules"]
    rules.append({"ruleType": "ApplicationRule", "name": "anything", "targetFqdns": ["*"]})
    return True


@mutation("vnet-flow-logs")
def _vnet_without_flow_log(plan: Plan) -> bool:
    for vnet in plan.of_type(AZ + "network:VirtualNetwork"):
        logs = linked(plan, AZ + "network:FlowLog", vnet, "targetResourceId")
        if logs:
            remove(plan, *logs)
            return True
    return False


edit(
    "monitor-private-link-scope",
    AZ + "monitor:PrivateLinkScope",
    {"accessModeSettings.queryAccessMode": "Open"},
)


@mutation("defender-plans")
def _no_storage_plan(plan: Plan) -> bool:
    pricing = pick(plan, AZ + "security:Pricing", lambda r: r.inputs.get("pricingName") == "StorageAccounts")
    if pricing is None:
        return False
    remove(plan, pricing)
    return True


edit("storage-zone-redundant", SA, {"sku.name": "Standard_LRS"})
edit("sql-database-zone-redundant", AZ + "sql:Database", {"zoneRedundant": False})
edit("eventhub-zone-redundant", AZ + "eventhub:Namespace", {"zoneRedundant": False})
edit("databricks-dbfs-root-cmk", AZ + "databricks:Workspace", {"parameters.prepareEncryption": {"value": False}})


@mutation("eventhub-no-sas-rules")
def _sas_rule(plan: Plan) -> bool:
    namespace = pick(plan, AZ + "eventhub:Namespace")
    if namespace is None:
        return False
    plan.resources.append(
        PlannedResource(
            urn=namespace.urn.rsplit("::", 1)[0].replace("eventhub:Namespace", "eventhub:NamespaceAuthorizationRule")
            + "::send-rule",
            type=AZ + "eventhub:NamespaceAuthorizationRule",
            name="send-rule",
            custom=True,
            inputs={"authorizationRuleName": "send", "namespaceName": "ns", "rights": ["Send"]},
            parent=namespace.parent,
            dependencies=[namespace.urn],
            property_dependencies={"namespaceName": [namespace.urn]},
        )
    )
    return True
