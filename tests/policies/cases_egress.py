"""Cases for the egress, flow-log, private-monitoring, Defender and hardening policies (issue 33).

Registered into `tests.policies.cases.CASES` when that module is imported.
"""

from __future__ import annotations

from tests.policies.cases import ACCOUNT, DROP, SA, case, patch
from tests.policies.synthetic import LOCATION, TAGS, res

AZ = "azure-native:"
SUBNET, RT, ROUTE = AZ + "network:Subnet", AZ + "network:RouteTable", AZ + "network:Route"
VNET, FLOW_LOG, NSG = AZ + "network:VirtualNetwork", AZ + "network:FlowLog", AZ + "network:NetworkSecurityGroup"
FWP, RCG = AZ + "network:FirewallPolicy", AZ + "network:FirewallPolicyRuleCollectionGroup"
LAW, AMPLS, SCOPED = (
    AZ + "operationalinsights:Workspace",
    AZ + "monitor:PrivateLinkScope",
    AZ + "monitor:PrivateLinkScopedResource",
)
PE, PRICING = AZ + "network:PrivateEndpoint", AZ + "security:Pricing"
DELEGATION = [{"name": "databricks", "serviceName": "Microsoft.Databricks/workspaces"}]
TO_FIREWALL = {
    "name": "default",
    "addressPrefix": "0.0.0.0/0",
    "nextHopType": "VirtualAppliance",
    "nextHopIpAddress": "10.51.0.4",
}


def _table(name: str, routes: list[dict]) -> object:
    return res(RT, name, {"routeTableName": name, "location": LOCATION, "tags": TAGS, "routes": routes})


def _dbx_subnet(name: str, table: object | None, **extra: object) -> object:
    inputs = {"subnetName": name, "addressPrefix": "10.0.4.0/22", "delegations": DELEGATION, **extra}
    if table is None:
        return res(SUBNET, name, inputs)
    return res(SUBNET, name, {**inputs, "routeTable": {"id": "rt-id"}}, deps={"routeTable": [table]})


_good_table = _table("rt-good", [TO_FIREWALL])
_internet_table = _table("rt-internet", [{**TO_FIREWALL, "nextHopType": "Internet"}])
case(
    "databricks-egress-through-firewall",
    "a Databricks subnet sends 0.0.0.0/0 to the firewall",
    bad=[
        [_dbx_subnet("host", None)],
        [_internet_table, _dbx_subnet("host", _internet_table)],
        [_table("rt-empty", []), _dbx_subnet("host", _table("rt-empty", []))],
    ],
    good=[
        [_good_table, _dbx_subnet("host", _good_table)],
        # standalone Route resource in the table
        [
            _table("rt-split", []),
            res(ROUTE, "r", {**TO_FIREWALL, "routeTableName": "rt-split"}),
            _dbx_subnet("host", _table("rt-split", [])),
        ],
        # a subnet not delegated to Databricks is not this policy's business
        [res(SUBNET, "pe", {"subnetName": "pe", "addressPrefix": "10.0.0.0/24"})],
    ],
    blame="host",
)
case(
    "no-internet-route-around-firewall",
    "Internet next hops and NAT gateways bypass the firewall",
    bad=[
        _table("rt-internet", [{**TO_FIREWALL, "nextHopType": "Internet"}]),
        res(ROUTE, "r-internet", {"addressPrefix": "8.8.8.0/24", "nextHopType": "Internet"}),
        res(SUBNET, "natted", {"subnetName": "natted", "natGateway": {"id": "ng"}}),
    ],
    good=[
        _table("rt-fw", [TO_FIREWALL]),
        res(SUBNET, "plain", {"subnetName": "plain"}),
        res(SUBNET, "fw", {"subnetName": "AzureFirewallSubnet", "natGateway": {"id": "ng"}}),
    ],
)


def _rcg(rules: list[dict], action: str = "Allow") -> object:
    return res(
        RCG,
        "rcg",
        {
            "firewallPolicyName": "fwp",
            "priority": 200,
            "ruleCollections": [
                {
                    "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
                    "name": "c",
                    "priority": 100,
                    "action": {"type": action},
                    "rules": rules,
                }
            ],
        },
    )


_app_rule = {"ruleType": "ApplicationRule", "name": "relay", "targetFqdns": ["tunnel.westeurope.azuredatabricks.net"]}
_net_rule = {
    "ruleType": "NetworkRule",
    "name": "cp",
    "destinationAddresses": ["AzureDatabricks"],
    "destinationPorts": ["443"],
}
case(
    "firewall-policy-default-deny",
    "no allow-any rule, threat intelligence on",
    bad=[
        _rcg([{**_app_rule, "targetFqdns": ["*"]}]),
        _rcg([{**_net_rule, "destinationAddresses": ["0.0.0.0/0"]}]),
        _rcg([{"ruleType": "NetworkRule", "name": "nothing-named", "destinationPorts": ["443"]}]),
        res(FWP, "fwp-off", {"threatIntelMode": "Off", "location": LOCATION, "tags": TAGS}),
    ],
    good=[
        _rcg([_app_rule, _net_rule]),
        _rcg([{**_app_rule, "targetFqdns": ["*"]}], action="Deny"),
        res(FWP, "fwp", {"threatIntelMode": "Deny", "location": LOCATION, "tags": TAGS}),
    ],
)

_vnet = res(VNET, "vnet", {"virtualNetworkName": "vnet", "location": LOCATION, "tags": TAGS})
_FLOW = {
    "targetResourceId": "vnet-id",
    "enabled": True,
    "retentionPolicy": {"enabled": True, "days": 90},
    "flowAnalyticsConfiguration": {"networkWatcherFlowAnalyticsConfiguration": {"enabled": True}},
}


def _flow(name: str, target: object, **changes: object) -> object:
    return res(FLOW_LOG, name, patch(_FLOW, changes), deps={"targetResourceId": [target]})


_nsg = res(NSG, "nsg", {"location": LOCATION, "tags": TAGS})
case(
    "vnet-flow-logs",
    "every VNet has an enabled, retained, analysed VNet flow log",
    bad=[
        [_vnet],
        [_vnet, _flow("fl", _vnet, enabled=False)],
        [_vnet, _flow("fl", _vnet, **{"retentionPolicy.days": 7})],
        [_vnet, _flow("fl", _vnet, **{"flowAnalyticsConfiguration": DROP})],
        [_nsg, _flow("fl-nsg", _nsg)],
    ],
    good=[[_vnet, _flow("fl", _vnet)]],
)

_law = res(LAW, "law", {"workspaceName": "law", "location": LOCATION, "tags": TAGS})
_MODES = {"ingestionAccessMode": "PrivateOnly", "queryAccessMode": "PrivateOnly"}


def _scope(**modes: str) -> object:
    return res(
        AMPLS,
        "ampls",
        {"scopeName": "ampls", "location": "global", "tags": TAGS, "accessModeSettings": {**_MODES, **modes}},
    )


def _scoped(scope: object) -> object:
    return res(
        SCOPED,
        "ampls-law",
        {"scopeName": "ampls", "linkedResourceId": "law-id"},
        deps={"linkedResourceId": [_law], "scopeName": [scope]},
    )


def _ampls_pe(scope: object) -> object:
    return res(
        PE,
        "pe-ampls",
        {"privateLinkServiceConnections": [{"name": "c", "privateLinkServiceId": "x", "groupIds": ["azuremonitor"]}]},
        deps={"privateLinkServiceConnections": [scope]},
    )


_private_scope = _scope()
case(
    "monitor-private-link-scope",
    "workspace in a private-only scope with an endpoint",
    bad=[
        [_law],
        [_law, _scope(queryAccessMode="Open"), _scoped(_scope(queryAccessMode="Open")), _ampls_pe(_scope())],
        [_law, _private_scope, _scoped(_private_scope)],
    ],
    good=[[_law, _private_scope, _scoped(_private_scope), _ampls_pe(_private_scope)]],
)


def _pricing(plan: str, **extra: object) -> object:
    return res(PRICING, f"defender-{plan}", {"pricingName": plan, "pricingTier": "Standard", "scopeId": "/s", **extra})


_STORAGE = {
    "subPlan": "DefenderForStorageV2",
    "extensions": [{"name": "OnUploadMalwareScanning", "isEnabled": "True"}],
}
_all_plans = [_pricing("StorageAccounts", **_STORAGE), _pricing("KeyVaults"), _pricing("SqlServers"), _pricing("Arm")]
_lake = res(SA, "lake", ACCOUNT)
case(
    "defender-plans",
    "a stack with a storage account but no Storage plan",
    bad=[[_lake, *_all_plans[1:]]],
    good=[[_lake, *_all_plans], [_pricing("KeyVaults")]],
    blame="lake",
)
case(
    "defender-plans",
    "Storage without malware scanning, a Free tier",
    bad=[
        [_lake, _pricing("StorageAccounts", subPlan="PerTransaction")],
        [_lake, _pricing("StorageAccounts", **{**_STORAGE, "extensions": []})],
        [res(AZ + "keyvault:Vault", "kv", {"vaultName": "kv"}), _pricing("KeyVaults", pricingTier="Free")],
    ],
    good=[[_lake, *_all_plans]],
)

case(
    "storage-zone-redundant",
    "LRS and GRS are single-zone",
    bad=[
        res(SA, "lrs", patch(ACCOUNT, {"sku.name": "Standard_LRS"})),
        res(SA, "grs", patch(ACCOUNT, {"sku.name": "Standard_GRS"})),
    ],
    good=[res(SA, "zrs", ACCOUNT), res(SA, "ragzrs", patch(ACCOUNT, {"sku.name": "Standard_RAGZRS"}))],
)
SQLDB = AZ + "sql:Database"
case(
    "sql-database-zone-redundant",
    "missing zoneRedundant is false",
    bad=[res(SQLDB, "db1", {"databaseName": "gold"}), res(SQLDB, "db2", {"zoneRedundant": False})],
    good=[res(SQLDB, "db3", {"zoneRedundant": True})],
)
NS = AZ + "eventhub:Namespace"
case(
    "eventhub-zone-redundant",
    "explicit opt-out is flagged",
    bad=[res(NS, "ns1", {"zoneRedundant": False})],
    good=[res(NS, "ns2", {"zoneRedundant": True}), res(NS, "ns3", {})],
)
case(
    "eventhub-no-sas-rules",
    "any SAS rule resource",
    bad=[
        res(AZ + "eventhub:NamespaceAuthorizationRule", "r1", {"authorizationRuleName": "send", "rights": ["Send"]}),
        res(AZ + "eventhub:EventHubAuthorizationRule", "r2", {"authorizationRuleName": "listen", "rights": ["Listen"]}),
    ],
    good=[res(NS, "ns", {"disableLocalAuth": True})],
)
WS = AZ + "databricks:Workspace"
_KEY = {"keySource": "Microsoft.Keyvault", "keyName": "k", "keyVaultUri": "https://kv.vault.azure.net/"}
case(
    "databricks-dbfs-root-cmk",
    "prepared for (and, when set, encrypted with) a Key Vault key",
    bad=[
        res(WS, "w1", {"parameters": {}}),
        res(WS, "w2", {"parameters": {"prepareEncryption": {"value": False}}}),
        res(
            WS,
            "w3",
            {"parameters": {"prepareEncryption": {"value": True}, "encryption": {"value": {"keySource": "Default"}}}},
        ),
        res(
            WS,
            "w4",
            {
                "parameters": {
                    "prepareEncryption": {"value": True},
                    "encryption": {"value": {"keySource": "Microsoft.Keyvault"}},
                }
            },
        ),
    ],
    good=[
        res(WS, "w5", {"parameters": {"prepareEncryption": {"value": True}}}),
        res(WS, "w6", {"parameters": {"prepareEncryption": {"value": True}, "encryption": {"value": _KEY}}}),
    ],
)
case(
    "storage-trusted-services-bypass",
    "an open firewall (no deny default) has nothing to bypass",
    good=[res(SA, "open", patch(ACCOUNT, {"networkRuleSet.defaultAction": "Allow", "networkRuleSet.bypass": "None"}))],
)
