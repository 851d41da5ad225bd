"""Compliant and non-compliant resources for every policy, in the engine's wire format.

Each case lists resources that must make the policy report (`bad`) and
resources it must accept (`good`). The default-value cases (a property left out
is judged by what Azure would do) and the alternative spellings of "the
Internet" and of a port set are cases like any other.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from offline.plan import UNKNOWN, PlannedResource
from tests.policies.synthetic import LOCATION, TAGS, res

AZ = "azure-native:"
DB = "databricks:index/"
CC = "confluentcloud:index/"
SUB = "/subscriptions/00000000-0000-0000-0000-000000000001"
RG_ID = f"{SUB}/resourceGroups/rg"
SECRET_SIG = "4dabf18193072939515e22adb298388d"
SECRET_VALUE_SIG = "1b47061264138c4ac30d75fd1eb44270"
DROP = object()
_ids = itertools.count(1)


def secret(value: Any) -> dict[str, Any]:
    return {SECRET_SIG: SECRET_VALUE_SIG, "value": value}


def patch(base: Mapping[str, Any], changes: Mapping[str, Any] | None = None, **top: Any) -> dict[str, Any]:
    """A copy of `base` with dotted paths set (or removed with DROP)."""
    result = copy.deepcopy(dict(base))
    for path, value in {**(changes or {}), **top}.items():
        keys = path.split(".")
        node = result
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        if value is DROP:
            node.pop(keys[-1], None)
        else:
            node[keys[-1]] = value
    return result


def builder(type_: str, base: Mapping[str, Any], name: str) -> Callable[..., PlannedResource]:
    """A maker of `type_` resources: `base` with dotted-path `changes` and top-level keyword inputs applied."""

    def make(changes: Mapping[str, Any] | None = None, name: str = name, **top: Any) -> PlannedResource:
        return res(type_, name, patch(base, changes, **top))

    return make


@dataclass
class Case:
    policy: str
    label: str
    bad: list[list[PlannedResource]] = field(default_factory=list)
    good: list[list[PlannedResource]] = field(default_factory=list)
    config: Any = None
    # The resource the violation must be attributed to, by name (default: the first resource).
    blame: str | None = None


CASES: list[Case] = []


def case(
    policy: str, label: str, *, bad: Any = (), good: Any = (), config: Any = None, blame: str | None = None
) -> None:
    def norm(groups: Any) -> list[list[PlannedResource]]:
        return [g if isinstance(g, list) else [g] for g in groups]

    CASES.append(Case(policy, label, norm(bad), norm(good), config, blame))


# ----------------------------------------------------------------------------- storage

SA = AZ + "storage:StorageAccount"
ACCOUNT = {
    "accountName": "stlake",
    "resourceGroupName": "rg",
    "location": LOCATION,
    "tags": TAGS,
    "kind": "StorageV2",
    "sku": {"name": "Standard_ZRS"},
    "isHnsEnabled": True,
    "enableHttpsTrafficOnly": True,
    "minimumTlsVersion": "TLS1_2",
    "allowSharedKeyAccess": False,
    "allowBlobPublicAccess": False,
    "allowCrossTenantReplication": False,
    "publicNetworkAccess": "Disabled",
    "networkRuleSet": {"defaultAction": "Deny", "bypass": "AzureServices"},
    "isLocalUserEnabled": False,
    "isSftpEnabled": False,
    "encryption": {
        "requireInfrastructureEncryption": True,
        "keySource": "Microsoft.Keyvault",
        "keyVaultProperties": {"keyName": "cmk", "keyVaultUri": "https://kv.vault.azure.net/"},
    },
}
sa = builder(SA, ACCOUNT, "lake")
case(
    "storage-secure-transfer",
    "explicit false fails; missing means the provider default (true)",
    bad=[sa(enableHttpsTrafficOnly=False), sa(enableHttpsTrafficOnly="false")],
    good=[sa(), sa(enableHttpsTrafficOnly=DROP)],
)
case(
    "storage-min-tls",
    "missing is TLS 1.0",
    bad=[sa(minimumTlsVersion=DROP), sa(minimumTlsVersion="TLS1_0"), sa(minimumTlsVersion="TLS1_1")],
    good=[sa(), sa(minimumTlsVersion="TLS1_3")],
)
case(
    "storage-no-shared-key",
    "missing allowSharedKeyAccess is shared key ON",
    bad=[sa(allowSharedKeyAccess=DROP), sa(allowSharedKeyAccess=True)],
    good=[sa()],
)
case(
    "storage-no-anonymous-blob-access",
    "only an explicit true fails (default false)",
    bad=[sa(allowBlobPublicAccess=True)],
    good=[sa(), sa(allowBlobPublicAccess=DROP)],
)
BC = AZ + "storage:BlobContainer"
case(
    "storage-container-private",
    "Container and Blob access fail",
    bad=[res(BC, "c1", {"containerName": "x", "publicAccess": "Container"}), res(BC, "c2", {"publicAccess": "Blob"})],
    good=[res(BC, "c3", {"containerName": "x"}), res(BC, "c4", {"publicAccess": "None"})],
)
case(
    "storage-public-network-disabled",
    "missing means Enabled",
    bad=[sa(publicNetworkAccess=DROP), sa(publicNetworkAccess="Enabled")],
    good=[sa(), sa(publicNetworkAccess="SecuredByPerimeter")],
)
case(
    "storage-firewall-default-deny",
    "no rule set means allow all",
    bad=[sa(networkRuleSet=DROP), sa({"networkRuleSet.defaultAction": "Allow"})],
    good=[sa()],
)
case(
    "storage-infrastructure-encryption",
    "missing is false",
    bad=[sa({"encryption.requireInfrastructureEncryption": DROP}), sa(encryption=DROP)],
    good=[sa()],
)
case(
    "storage-no-local-users-sftp",
    "missing isLocalUserEnabled means local users allowed",
    bad=[sa(isLocalUserEnabled=DROP), sa(isLocalUserEnabled=True), sa(isSftpEnabled=True)],
    good=[sa(), sa(isSftpEnabled=DROP)],
)
case(
    "storage-no-cross-tenant-replication",
    "explicit true fails (default false)",
    bad=[sa(allowCrossTenantReplication=True)],
    good=[sa(), sa(allowCrossTenantReplication=DROP)],
)
case(
    "storage-trusted-services-bypass",
    "bypass must include AzureServices",
    bad=[sa({"networkRuleSet.bypass": "None"}), sa({"networkRuleSet.bypass": "Logging, Metrics"})],
    good=[sa(), sa({"networkRuleSet.bypass": "Logging, AzureServices"})],
)
case(
    "storage-customer-managed-key",
    "service-managed keys are flagged",
    bad=[sa({"encryption.keySource": "Microsoft.Storage"}), sa({"encryption.keySource": DROP})],
    good=[sa()],
)
BSP = AZ + "storage:BlobServiceProperties"
_SOFT_DELETE = {
    "accountName": "stlake",
    "deleteRetentionPolicy": {"enabled": True, "days": 7},
    "containerDeleteRetentionPolicy": {"enabled": True, "days": 7},
}
case(
    "storage-blob-soft-delete",
    "an account without blob service properties has no soft delete; both retention policies enabled",
    bad=[
        [sa()],  # nothing to check is a failure, not a silent pass
        [sa(), res(BSP, "b1", {"accountName": "stlake"})],
        [sa(), res(BSP, "b2", patch(_SOFT_DELETE, {"containerDeleteRetentionPolicy.enabled": False}))],
        [sa(), res(BSP, "b3", {**_SOFT_DELETE, "accountName": "otheraccount"})],
    ],
    good=[[sa(), res(BSP, "b4", _SOFT_DELETE)]],
)

PE = AZ + "network:PrivateEndpoint"


def pe(name: str, target: PlannedResource | None, group: Any, *, service_id: Any = UNKNOWN) -> PlannedResource:
    inputs = {
        "privateEndpointName": f"pe-{name}",
        "location": LOCATION,
        "tags": TAGS,
        "resourceGroupName": "rg",
        "subnet": {"id": UNKNOWN},
        "privateLinkServiceConnections": [
            {"name": f"{name}-conn", "privateLinkServiceId": service_id, "groupIds": [group] if group else UNKNOWN}
        ],
    }
    return res(PE, name, inputs, deps={"privateLinkServiceConnections": [target]} if target else None)


_lake = sa()
_other = sa(name="other")
case(
    "storage-private-endpoint",
    "an HNS account needs blob and dfs endpoints, matched by dependency",
    bad=[
        [_lake],
        [_lake, pe("lake-blob", _lake, "blob")],
        [_lake, _other, pe("lake-blob", _other, "blob"), pe("lake-dfs", _other, "dfs")],
    ],
    good=[
        [_lake, pe("lake-blob", _lake, "blob"), pe("lake-dfs", _lake, "dfs")],
        [sa(isHnsEnabled=DROP), pe("lake-blob", sa(isHnsEnabled=DROP), "blob")],
        [_lake, pe("lake-any", _lake, None)],  # group ids unknown during preview
    ],
)

# ----------------------------------------------------------------------------- key vault

VAULT = AZ + "keyvault:Vault"
VAULT_OK = {
    "vaultName": "kv",
    "resourceGroupName": "rg",
    "location": LOCATION,
    "tags": TAGS,
    "properties": {
        "tenantId": "t",
        "sku": {"family": "A", "name": "standard"},
        "enableRbacAuthorization": True,
        "enablePurgeProtection": True,
        "enableSoftDelete": True,
        "softDeleteRetentionInDays": 90,
        "publicNetworkAccess": "Disabled",
        "networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices"},
    },
}
kv = builder(VAULT, VAULT_OK, "kv")
case(
    "keyvault-rbac-authorization",
    "missing means access policies",
    bad=[kv({"properties.enableRbacAuthorization": DROP}), kv({"properties.enableRbacAuthorization": False})],
    good=[kv()],
)
case(
    "keyvault-purge-protection",
    "missing is off",
    bad=[kv({"properties.enablePurgeProtection": DROP}), kv({"properties.enablePurgeProtection": False})],
    good=[kv()],
)
case(
    "keyvault-soft-delete-retention",
    "soft delete on, retention at least the configured minimum (default 90)",
    bad=[kv({"properties.enableSoftDelete": False}), kv({"properties.softDeleteRetentionInDays": 7})],
    good=[kv(), kv({"properties.softDeleteRetentionInDays": DROP, "properties.enableSoftDelete": DROP})],
)
case(
    "keyvault-soft-delete-retention",
    "the minimum comes from config",
    good=[kv({"properties.softDeleteRetentionInDays": 7})],
    config={"keyvault-soft-delete-retention": {"minRetentionDays": 7}},
)
case(
    "keyvault-public-network-disabled",
    "missing means Enabled; the value is a plain string",
    bad=[kv({"properties.publicNetworkAccess": DROP}), kv({"properties.publicNetworkAccess": "Enabled"})],
    good=[kv(), kv({"properties.publicNetworkAccess": "disabled"})],
)
case(
    "keyvault-firewall-default-deny",
    "no ACLs means allow all",
    bad=[kv({"properties.networkAcls": DROP}), kv({"properties.networkAcls.defaultAction": "Allow"})],
    good=[kv()],
)
case(
    "keyvault-least-privilege-access-policies",
    "no all/purge permissions even with RBAC on",
    bad=[
        kv(
            {
                "properties.accessPolicies": [
                    {"objectId": "o", "tenantId": "t", "permissions": {"secrets": ["get", "all"]}}
                ]
            }
        ),
        kv({"properties.accessPolicies": [{"objectId": "o", "tenantId": "t", "permissions": {"keys": ["Purge"]}}]}),
    ],
    good=[kv({"properties.accessPolicies": [{"objectId": "o", "tenantId": "t", "permissions": {"secrets": ["get"]}}]})],
)
_vault = kv()
case(
    "keyvault-private-endpoint",
    "a vault needs a 'vault' endpoint",
    bad=[[_vault], [_vault, pe("kv-other", _vault, "somethingelse")]],
    good=[[_vault, pe("kv-pe", _vault, "vault")]],
)
DIAG = AZ + "monitor:DiagnosticSetting"
LAW = AZ + "operationalinsights:Workspace"
LAW_OK = {
    "workspaceName": "law",
    "resourceGroupName": "rg",
    "location": LOCATION,
    "tags": TAGS,
    "sku": {"name": "PerGB2018"},
    "retentionInDays": 90,
    "features": {"disableLocalAuth": True},
    "publicNetworkAccessForIngestion": "Disabled",
    "publicNetworkAccessForQuery": "Disabled",
}
_law = res(LAW, "law", LAW_OK)


def diag(
    name: str, target: PlannedResource, logs: Any, *, workspace: bool = True, uri: Any = UNKNOWN
) -> PlannedResource:
    inputs: dict[str, Any] = {"name": "to-law", "resourceUri": uri}
    deps: dict[str, list[PlannedResource]] = {"resourceUri": [target]}
    if workspace:
        inputs["workspaceId"] = UNKNOWN
        deps["workspaceId"] = [_law]
    if logs is not None:
        inputs["logs"] = logs
    inputs["metrics"] = [{"category": "AllMetrics", "enabled": True}]
    return res(DIAG, name, inputs, deps=deps)


case(
    "keyvault-audit-logs",
    "AuditEvent, audit or allLogs must be enabled",
    bad=[
        [_vault],
        [_vault, diag("d", _vault, [{"category": "AzurePolicyEvaluationDetails", "enabled": True}])],
        [_vault, diag("d", _vault, [{"categoryGroup": "audit", "enabled": False}])],
    ],
    good=[
        [_vault, diag("d", _vault, [{"categoryGroup": "audit", "enabled": True}])],
        [_vault, diag("d", _vault, [{"category": "AuditEvent", "enabled": True}])],
        [_vault, diag("d", _vault, [{"categoryGroup": "allLogs", "enabled": True}])],
    ],
)
KEY, SECRET = AZ + "keyvault:Key", AZ + "keyvault:Secret"
case(
    "keyvault-key-rotation-expiry",
    "keys rotate, secrets expire",
    bad=[
        res(KEY, "k1", {"keyName": "k", "properties": {"kty": "RSA"}}),
        res(KEY, "k2", {"properties": {"rotationPolicy": {"lifetimeActions": [{"action": {"type": "notify"}}]}}}),
        res(SECRET, "s1", {"properties": {"value": secret("x")}}),
    ],
    good=[
        res(KEY, "k3", {"properties": {"rotationPolicy": {"lifetimeActions": [{"action": {"type": "rotate"}}]}}}),
        res(SECRET, "s2", {"properties": {"value": secret("x"), "attributes": {"expires": 1893456000}}}),
    ],
)

# ----------------------------------------------------------------------------- event hubs

NS = AZ + "eventhub:Namespace"
NS_OK = {
    "namespaceName": "evh",
    "resourceGroupName": "rg",
    "location": LOCATION,
    "tags": TAGS,
    "sku": {"name": "Premium", "tier": "Premium"},
    "disableLocalAuth": True,
    "minimumTlsVersion": "1.2",
    "publicNetworkAccess": "Disabled",
    "encryption": {"keySource": "Microsoft.KeyVault", "requireInfrastructureEncryption": True},
}
ns = builder(NS, NS_OK, "evh")
case(
    "eventhub-local-auth-disabled",
    "missing keeps SAS on",
    bad=[ns(disableLocalAuth=DROP), ns(disableLocalAuth=False)],
    good=[ns()],
)
case(
    "eventhub-min-tls",
    "must be set to 1.2",
    bad=[ns(minimumTlsVersion=DROP), ns(minimumTlsVersion="1.0"), ns(minimumTlsVersion="1.1")],
    good=[ns()],
)
RULESET = AZ + "eventhub:NamespaceNetworkRuleSet"
case(
    "eventhub-public-network-disabled",
    "public by default; a rule set may reopen it",
    bad=[
        ns(publicNetworkAccess=DROP),
        ns(publicNetworkAccess="Enabled"),
        res(RULESET, "rs1", {"namespaceName": "evh", "publicNetworkAccess": "Enabled", "defaultAction": "Allow"}),
        res(RULESET, "rs2", {"namespaceName": "evh"}),
    ],
    good=[
        ns(),
        res(RULESET, "rs3", {"namespaceName": "evh", "publicNetworkAccess": "Disabled", "defaultAction": "Deny"}),
        res(RULESET, "rs4", {"namespaceName": "evh", "publicNetworkAccess": "Enabled", "defaultAction": "Deny"}),
    ],
)
_ns = ns()
case(
    "eventhub-private-endpoint",
    "a namespace needs a 'namespace' endpoint",
    bad=[[_ns]],
    good=[[_ns, pe("evh-pe", _ns, "namespace")]],
)
case(
    "eventhub-customer-managed-key",
    "Premium namespaces use CMK and infrastructure encryption",
    bad=[ns(encryption=DROP), ns({"encryption.requireInfrastructureEncryption": False})],
    good=[ns(), ns(encryption=DROP, sku={"name": "Standard", "tier": "Standard"})],
)

# ----------------------------------------------------------------------------- databricks workspace

WS = AZ + "databricks:Workspace"
WS_OK = {
    "workspaceName": "dbw",
    "resourceGroupName": "rg",
    "location": LOCATION,
    "tags": TAGS,
    "sku": {"name": "premium"},
    "managedResourceGroupId": f"{SUB}/resourceGroups/rg-dbw-managed",
    "publicNetworkAccess": "Disabled",
    "requiredNsgRules": "NoAzureDatabricksRules",
    "defaultStorageFirewall": "Enabled",
    "accessConnector": {"id": UNKNOWN, "identityType": "SystemAssigned"},
    "parameters": {
        "customVirtualNetworkId": {"value": f"{RG_ID}/providers/Microsoft.Network/virtualNetworks/vnet"},
        "customPublicSubnetName": {"value": "snet-host"},
        "customPrivateSubnetName": {"value": "snet-container"},
        "enableNoPublicIp": {"value": True},
        "requireInfrastructureEncryption": {"value": True},
    },
    "encryption": {
        "entities": {
            "managedServices": {"keySource": "Microsoft.Keyvault", "keyVaultProperties": {}},
            "managedDisk": {"keySource": "Microsoft.Keyvault", "keyVaultProperties": {}},
        }
    },
}
ws = builder(WS, WS_OK, "dbw")
case(
    "databricks-no-public-ip",
    "explicit false fails; missing is the default true",
    bad=[ws({"parameters.enableNoPublicIp.value": False})],
    good=[ws(), ws({"parameters.enableNoPublicIp": DROP})],
)
case(
    "databricks-vnet-injection",
    "all three custom parameters",
    bad=[ws({"parameters.customVirtualNetworkId": DROP}), ws({"parameters.customPrivateSubnetName.value": ""})],
    good=[ws(), ws({"parameters.customVirtualNetworkId.value": UNKNOWN})],
)
case(
    "databricks-public-network-disabled",
    "missing fails",
    bad=[ws(publicNetworkAccess=DROP), ws(publicNetworkAccess="Enabled")],
    good=[ws()],
)
case(
    "databricks-backend-private-link",
    "closed front end needs NoAzureDatabricksRules",
    bad=[ws(requiredNsgRules="AllRules"), ws(requiredNsgRules=DROP)],
    good=[ws(), ws(publicNetworkAccess="Enabled", requiredNsgRules="AllRules")],
)
_ws = ws()
case(
    "databricks-private-endpoint",
    "a databricks_ui_api endpoint",
    bad=[[_ws], [_ws, pe("dbw-auth", _ws, "browser_authentication")]],
    good=[[_ws, pe("dbw-ui", _ws, "databricks_ui_api")]],
)
case(
    "databricks-premium-sku",
    "premium only",
    bad=[ws(sku={"name": "standard"}), ws(sku={"name": "trial"}), ws(sku=DROP)],
    good=[ws(), ws(sku={"name": "Premium"})],
)
case(
    "databricks-customer-managed-keys",
    "managed services and disks",
    bad=[ws(encryption=DROP)],
    good=[ws()],
)
case(
    "databricks-infrastructure-encryption",
    "DBFS double encryption",
    bad=[ws({"parameters.requireInfrastructureEncryption": DROP})],
    good=[ws()],
)
case(
    "databricks-default-storage-firewall",
    "firewall on, with a connector",
    bad=[ws(defaultStorageFirewall=DROP), ws(accessConnector=DROP)],
    good=[ws()],
)

# ----------------------------------------------------------------------------- sql

SERVER = AZ + "sql:Server"
SERVER_OK = {
    "serverName": "sql-rta",
    "resourceGroupName": "rg",
    "location": LOCATION,
    "tags": TAGS,
    "version": "12.0",
    "minimalTlsVersion": "1.2",
    "publicNetworkAccess": "Disabled",
    "restrictOutboundNetworkAccess": "Enabled",
    "keyId": "https://kv.vault.azure.net/keys/sql/abc",
    "administrators": {
        "administratorType": "ActiveDirectory",
        "azureADOnlyAuthentication": True,
        "login": "sql-admins",
        "sid": "00000000-0000-0000-0000-000000000002",
        "principalType": "Group",
    },
}
server = builder(SERVER, SERVER_OK, "sql")
case(
    "sql-entra-only-auth",
    "Entra-only admin, no SQL login",
    bad=[
        server(administrators=DROP),
        server({"administrators.azureADOnlyAuthentication": False}),
        server(administratorLogin="sqladmin", administratorLoginPassword=secret("hunter2")),
        res(
            AZ + "sql:ServerAzureADOnlyAuthentication", "aad", {"serverName": "sql", "azureADOnlyAuthentication": False}
        ),
    ],
    good=[server(), res(AZ + "sql:ServerAzureADOnlyAuthentication", "aad2", {"azureADOnlyAuthentication": True})],
)
case(
    "sql-min-tls",
    "missing or None fails",
    bad=[server(minimalTlsVersion=DROP), server(minimalTlsVersion="1.0"), server(minimalTlsVersion="None")],
    good=[server(), server(minimalTlsVersion="1.3")],
)
case(
    "sql-public-network-disabled",
    "missing means Enabled",
    bad=[server(publicNetworkAccess=DROP), server(publicNetworkAccess="Enabled")],
    good=[server()],
)
FW = AZ + "sql:FirewallRule"
case(
    "sql-no-firewall-rules",
    "no firewall rule at all",
    bad=[
        res(FW, "azure", {"serverName": "sql", "startIpAddress": "0.0.0.0", "endIpAddress": "0.0.0.0"}),
        res(FW, "all", {"serverName": "sql", "startIpAddress": "0.0.0.0", "endIpAddress": "255.255.255.255"}),
        res(FW, "office", {"serverName": "sql", "startIpAddress": "203.0.113.1", "endIpAddress": "203.0.113.9"}),
    ],
    good=[server()],
)
TDE = AZ + "sql:TransparentDataEncryption"
case(
    "sql-tde-enabled",
    "explicit Disabled fails",
    bad=[res(TDE, "tde", {"serverName": "sql", "databaseName": "db", "state": "Disabled"})],
    good=[res(TDE, "tde", {"serverName": "sql", "databaseName": "db", "state": "Enabled"})],
)
_server = server()
AUDIT = AZ + "sql:ServerBlobAuditingPolicy"
AUDIT_OK = {"serverName": UNKNOWN, "resourceGroupName": "rg", "state": "Enabled", "isAzureMonitorTargetEnabled": True}


def audit(changes: Mapping[str, Any] | None = None, *, by_name: bool = False) -> PlannedResource:
    inputs = patch(AUDIT_OK, changes)
    if by_name:
        inputs["serverName"] = "sql-rta"
        return res(AUDIT, "audit", inputs)
    return res(AUDIT, "audit", inputs, deps={"serverName": [_server]})


case(
    "sql-auditing",
    "server auditing to Azure Monitor",
    bad=[
        [_server],
        [_server, audit({"state": "Disabled"})],
        [_server, audit({"isAzureMonitorTargetEnabled": DROP})],
        [_server, audit({"retentionDays": 30})],
    ],
    good=[
        [_server, audit()],
        [_server, audit(by_name=True)],
        [_server, audit({"retentionDays": 0})],
        [_server, res(AZ + "sql:ExtendedServerBlobAuditingPolicy", "ext", AUDIT_OK, deps={"serverName": [_server]})],
    ],
)
ALERT = AZ + "sql:ServerSecurityAlertPolicy"


def alert(changes: Mapping[str, Any] | None = None) -> PlannedResource:
    inputs = patch({"serverName": UNKNOWN, "resourceGroupName": "rg", "state": "Enabled"}, changes)
    return res(ALERT, "alerts", inputs, deps={"serverName": [_server]})


case(
    "sql-threat-protection",
    "Advanced Threat Protection on, nothing disabled",
    bad=[[_server], [_server, alert({"state": "Disabled"})], [_server, alert({"disabledAlerts": ["Sql_Injection"]})]],
    good=[[_server, alert()], [_server, alert({"disabledAlerts": [""]})]],
)
case(
    "sql-private-endpoint",
    "a sqlServer endpoint",
    bad=[[_server]],
    good=[[_server, pe("sql-pe", _server, "sqlServer")]],
)
PROTECTOR = AZ + "sql:EncryptionProtector"
_plain_server = server(keyId=DROP)
case(
    "sql-tde-customer-managed-key",
    "keyId or an AzureKeyVault protector",
    bad=[
        [_plain_server],
        [
            _plain_server,
            res(PROTECTOR, "ep", {"serverKeyType": "ServiceManaged", "serverName": "sql-rta"}),
        ],
    ],
    good=[
        [_server],
        [
            _plain_server,
            res(
                PROTECTOR,
                "ep",
                {"serverKeyType": "AzureKeyVault", "serverName": UNKNOWN},
                deps={"serverName": [_plain_server]},
            ),
        ],
    ],
)
case(
    "sql-restrict-outbound",
    "missing is Disabled",
    bad=[server(restrictOutboundNetworkAccess=DROP)],
    good=[server()],
)

# ----------------------------------------------------------------------------- network

NSG = AZ + "network:NetworkSecurityGroup"
RULE = AZ + "network:SecurityRule"
RULE_OK = {
    "name": "allow-vnet",
    "access": "Allow",
    "direction": "Inbound",
    "protocol": "Tcp",
    "priority": 100,
    "sourceAddressPrefix": "VirtualNetwork",
    "sourcePortRange": "*",
    "destinationAddressPrefix": "*",
    "destinationPortRange": "443",
}


def nsg(*rules: Mapping[str, Any], name: str = "nsg") -> PlannedResource:
    return res(
        NSG, name, {"networkSecurityGroupName": name, "location": LOCATION, "tags": TAGS, "securityRules": list(rules)}
    )


def rule(changes: Mapping[str, Any] | None = None, *, standalone: bool = False, **top: Any) -> PlannedResource:
    body = patch(RULE_OK, changes, **top)
    if standalone:
        body["networkSecurityGroupName"] = "nsg"
        return res(RULE, f"rule-{next(_ids)}", body)
    return nsg(body, name=f"nsg-{next(_ids)}")


def internet(**top: Any) -> dict[str, Any]:
    return patch(RULE_OK, sourceAddressPrefix="Internet", **top)


INTERNET_SPELLINGS = ["*", "Internet", "internet", "0.0.0.0/0", "Any", "0.0.0.0", "::/0"]
case(
    "nsg-no-internet-ssh",
    "every spelling of the Internet, every way of covering 22, inline and standalone",
    bad=[rule(sourceAddressPrefix=s, destinationPortRange="22") for s in INTERNET_SPELLINGS]
    + [
        rule(sourceAddressPrefix=DROP, sourceAddressPrefixes=["10.0.0.0/8", "0.0.0.0/0"], destinationPortRange="22"),
        rule(sourceAddressPrefix="*", destinationPortRange="20-25"),
        rule(sourceAddressPrefix="*", destinationPortRange=DROP, destinationPortRanges=["80", "22"]),
        rule(sourceAddressPrefix="*", destinationPortRange=DROP, destinationPortRanges=["1000-2000", "10-30"]),
        rule(sourceAddressPrefix="Internet", destinationPortRange="*"),
        rule(sourceAddressPrefix="Internet", destinationPortRange=DROP),
        rule(sourceAddressPrefix="Internet", destinationPortRange="22", protocol="*"),
        rule(sourceAddressPrefix="Internet", destinationPortRange="22", standalone=True),
        rule(sourceAddressPrefix="Any", destinationPortRange="0-65535", standalone=True),
    ],
    good=[
        rule(destinationPortRange="22"),
        rule(sourceAddressPrefix="10.0.0.0/8", destinationPortRange="22"),
        rule(sourceAddressPrefix="Internet", destinationPortRange="22", access="Deny"),
        rule(sourceAddressPrefix="Internet", destinationPortRange="23"),
        rule(sourceAddressPrefix="Internet", destinationPortRange="22", protocol="Udp"),
        rule(sourceAddressPrefix="Internet", destinationPortRange="22", direction="Outbound"),
        rule(sourceAddressPrefix="Internet", destinationPortRange=UNKNOWN),
    ],
)
case(
    "nsg-no-internet-rdp",
    "3389 over TCP or UDP, ranges and lists",
    bad=[
        rule(sourceAddressPrefix="Internet", destinationPortRange="3389"),
        rule(sourceAddressPrefix="0.0.0.0/0", destinationPortRange="3380-3390", protocol="Udp"),
        rule(
            sourceAddressPrefix=DROP,
            sourceAddressPrefixes=["*"],
            destinationPortRange=DROP,
            destinationPortRanges=["3389"],
        ),
        rule(sourceAddressPrefix="Any", destinationPortRange="*", protocol="*", standalone=True),
    ],
    good=[rule(sourceAddressPrefix="Internet", destinationPortRange="3390"), rule(destinationPortRange="3389")],
)
case(
    "nsg-no-internet-ingress",
    "any other port or protocol from the Internet; SSH/RDP reported by their own policies",
    bad=[
        rule(sourceAddressPrefix="Internet", destinationPortRange="443"),
        rule(sourceAddressPrefix="*", destinationPortRange="*", protocol="*"),
        rule(sourceAddressPrefix="0.0.0.0/0", destinationPortRange="20-25"),
        rule(sourceAddressPrefix="Internet", destinationPortRange="22", protocol="Udp"),
        rule(sourceAddressPrefix="Internet", destinationPortRange=DROP, protocol="Icmp"),
        rule(
            sourceAddressPrefix="Any", destinationPortRange=DROP, destinationPortRanges=["443", "8443"], standalone=True
        ),
    ],
    good=[
        rule(sourceAddressPrefix="Internet", destinationPortRange="22"),
        rule(sourceAddressPrefix="Internet", destinationPortRange=DROP, destinationPortRanges=["22", "3389"]),
        rule(destinationPortRange="*"),
    ],
)
case(
    "nsg-no-internet-ingress",
    "deliberate exceptions come from config",
    good=[rule(sourceAddressPrefix="Internet", destinationPortRange="443")],
    config={"nsg-no-internet-ingress": {"allowedPorts": [443]}},
)
case(
    "nsg-no-internet-egress",
    "explicit allow-all egress",
    bad=[
        rule(direction="Outbound", destinationAddressPrefix="Internet"),
        rule(direction="Outbound", destinationAddressPrefix="*", standalone=True),
    ],
    good=[
        rule(direction="Outbound", destinationAddressPrefix="Storage"),
        rule(direction="Outbound", destinationAddressPrefix="*", access="Deny"),
    ],
)
SUBNET, VNET = AZ + "network:Subnet", AZ + "network:VirtualNetwork"
case(
    "subnet-has-nsg",
    "standalone and inline subnets; gateway subnets exempt",
    bad=[
        res(SUBNET, "s1", {"subnetName": "snet-app", "addressPrefix": "10.0.0.0/24", "defaultOutboundAccess": False}),
        res(
            VNET,
            "v1",
            {"location": LOCATION, "tags": TAGS, "subnets": [{"name": "snet-app", "defaultOutboundAccess": False}]},
        ),
    ],
    good=[
        res(
            SUBNET,
            "s2",
            {"subnetName": "snet-app", "networkSecurityGroup": {"id": UNKNOWN}, "defaultOutboundAccess": False},
        ),
        res(SUBNET, "s3", {"subnetName": "GatewaySubnet"}),
        res(VNET, "v2", {"location": LOCATION, "tags": TAGS, "subnets": [{"name": "AzureFirewallSubnet"}]}),
    ],
)
case(
    "subnet-no-default-outbound",
    "missing is true; delegated subnets exempt",
    bad=[res(SUBNET, "s1", {"subnetName": "snet-app", "networkSecurityGroup": {"id": "x"}})],
    good=[
        res(SUBNET, "s2", {"subnetName": "snet-app", "defaultOutboundAccess": False}),
        res(
            SUBNET,
            "s3",
            {
                "subnetName": "snet-dbw",
                "delegations": [{"name": "d", "serviceName": "Microsoft.Databricks/workspaces"}],
            },
        ),
    ],
)
ZG = AZ + "network:PrivateDnsZoneGroup"
_pe = pe("kv-pe", _vault, "vault")


def zone_group(*, by_dep: bool = True, configs: Any = None) -> PlannedResource:
    inputs = {
        "name": "default",
        "privateEndpointName": UNKNOWN if by_dep else "pe-kv-pe",
        "privateDnsZoneConfigs": configs if configs is not None else [{"name": "vault", "privateDnsZoneId": UNKNOWN}],
    }
    return res(ZG, "zg", inputs, deps={"privateEndpointName": [_pe]} if by_dep else None)


case(
    "private-endpoint-dns-zone-group",
    "every endpoint registered in a private zone",
    bad=[[_pe], [_pe, zone_group(configs=[])]],
    good=[[_pe, zone_group()], [_pe, zone_group(by_dep=False)]],
    blame="kv-pe",
)
RECORD = AZ + "privatedns:PrivateRecordSet"
_alias_pe = res(
    PE,
    "kafka-pe",
    {
        "privateEndpointName": "pe-kafka",
        "location": LOCATION,
        "tags": TAGS,
        "manualPrivateLinkServiceConnections": [{"name": "c", "privateLinkServiceId": UNKNOWN}],
    },
)


def a_record(*endpoints: PlannedResource, name: str = "rec", addresses: Any = None) -> PlannedResource:
    inputs = {"recordType": "A", "relativeRecordSetName": "*", "privateZoneName": UNKNOWN, "ttl": 60}
    inputs["aRecords"] = addresses if addresses is not None else [{"ipv4Address": UNKNOWN} for _ in endpoints]
    return res(RECORD, name, inputs, deps={"aRecords": list(endpoints)})


case(
    "private-endpoint-dns-zone-group",
    "an alias (non-Azure) endpoint registers through A records fed by its address",
    bad=[[_alias_pe, a_record(_pe)], [_alias_pe, a_record(_alias_pe, addresses=[])]],
    good=[[_alias_pe, a_record(_alias_pe)]],
    blame="kafka-pe",
)
LINK = AZ + "privatedns:VirtualNetworkLink"
case(
    "private-dns-link-no-autoregistration",
    "registrationEnabled true fails",
    bad=[res(LINK, "l1", {"registrationEnabled": True, "location": "Global", "tags": TAGS})],
    good=[
        res(LINK, "l2", {"registrationEnabled": False, "location": "Global", "tags": TAGS}),
        res(LINK, "l3", {"location": "global", "tags": TAGS}),
    ],
)
NIC = AZ + "network:NetworkInterface"
case(
    "nic-no-public-ip",
    "no publicIPAddress",
    bad=[
        res(
            NIC,
            "n1",
            {
                "location": LOCATION,
                "tags": TAGS,
                "ipConfigurations": [{"name": "c", "publicIPAddress": {"id": UNKNOWN}}],
            },
        )
    ],
    good=[
        res(NIC, "n2", {"location": LOCATION, "tags": TAGS, "ipConfigurations": [{"name": "c", "subnet": {"id": "s"}}]})
    ],
)

# ----------------------------------------------------------------------------- monitoring

_account = sa()
case(
    "diagnostic-settings-present",
    "each diagnosable resource logs to Log Analytics",
    bad=[
        [_vault],
        [_vault, diag("d", _vault, None)],  # metrics only
        [_vault, diag("d", _vault, [{"categoryGroup": "allLogs", "enabled": True}], workspace=False)],
        [_law, _vault, diag("d", _law, [{"categoryGroup": "allLogs", "enabled": True}])],
    ],
    good=[
        [_vault, diag("d", _vault, [{"categoryGroup": "allLogs", "enabled": True}])],
        # storage: metrics on the account, logs on its blob service, both depending on the account
        [
            _account,
            diag("acct", _account, None),
            diag("blob", _account, [{"categoryGroup": "allLogs", "enabled": True}]),
        ],
    ],
)
case(
    "log-analytics-hardening",
    "retention, local auth, public access",
    bad=[
        res(LAW, "l1", patch(LAW_OK, retentionInDays=30)),
        res(LAW, "l2", patch(LAW_OK, retentionInDays=DROP)),
        res(LAW, "l3", patch(LAW_OK, features=DROP)),
        res(LAW, "l4", patch(LAW_OK, publicNetworkAccessForQuery="Enabled")),
    ],
    good=[res(LAW, "l5", LAW_OK)],
)
case(
    "log-analytics-hardening",
    "minimum retention from config",
    good=[res(LAW, "l6", patch(LAW_OK, retentionInDays=30))],
    config={"log-analytics-hardening": {"minRetentionDays": 30}},
)

# ----------------------------------------------------------------------------- identity

RA = AZ + "authorization:RoleAssignment"
OWNER = f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
UAA = "/providers/Microsoft.Authorization/roleDefinitions/18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
CONTRIB = f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"
READER = f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"


def ra(name: str, role: str, scope: str, principal_type: Any = "ServicePrincipal") -> PlannedResource:
    inputs = {"roleDefinitionId": role, "scope": scope, "principalId": UNKNOWN}
    if principal_type is not None:
        inputs["principalType"] = principal_type
    return res(RA, name, inputs)


case(
    "rbac-no-privileged-roles-for-service-principals",
    "Owner/UAA to service principals, or to an undeclared principal type",
    bad=[ra("o", OWNER, RG_ID), ra("u", UAA, RG_ID, None), ra("a", OWNER.upper(), SUB, "AgentServicePrincipal")],
    good=[ra("g", OWNER, RG_ID, "Group"), ra("r", READER, SUB), ra("x", UNKNOWN, RG_ID)],
)
case(
    "rbac-no-subscription-contributor",
    "Contributor at subscription or broader",
    bad=[
        ra("c1", CONTRIB, SUB, "User"),
        ra("c2", CONTRIB, SUB + "/"),
        ra("c3", CONTRIB, "/providers/Microsoft.Management/managementGroups/root"),
    ],
    good=[ra("c4", CONTRIB, RG_ID), ra("c5", READER, SUB), ra("c6", CONTRIB, UNKNOWN)],
)

# ----------------------------------------------------------------------------- governance

case(
    "required-tags",
    "required keys on taggable resources, case-insensitive, non-empty",
    bad=[
        sa(tags=DROP),
        sa(tags={"environment": "test", "owner": "team"}),
        sa(tags={**TAGS, "owner": ""}),
        res(AZ + "network:NatGateway", "ng", {"location": LOCATION, "tags": {"owner": "x"}}),
    ],
    good=[
        sa(),
        sa(tags={"Environment": "test", "OWNER": "team", "CostCenter": "cc"}),
        res(DIAG, "d", {"resourceUri": "x"}),
        res(SA, "computed", patch(ACCOUNT, tags=UNKNOWN)),
    ],
)
case(
    "allowed-regions",
    "allow-list with spelling variants; global always allowed; Confluent regions too",
    bad=[
        sa(location="eastus"),
        sa(location="East US"),
        res(CC + "network:Network", "net", {"cloud": "AZURE", "region": "eastus", "connectionTypes": ["PRIVATELINK"]}),
    ],
    good=[
        sa(),
        sa(location="West Europe"),
        res(AZ + "privatedns:PrivateZone", "z", {"location": "Global", "tags": TAGS}),
        sa(location=UNKNOWN),
        res(
            CC + "network:Network",
            "net",
            {"cloud": "AZURE", "region": "westeurope", "connectionTypes": ["PRIVATELINK"]},
        ),
    ],
)
case(
    "allowed-regions",
    "the allow-list comes from config",
    bad=[sa()],
    good=[sa(location="eastus")],
    config={"allowed-regions": {"allowedRegions": ["eastus"]}},
)

# ----------------------------------------------------------------------------- databricks objects

CONF = DB + "workspaceConf:WorkspaceConf"
TOKEN = DB + "token:Token"
PERMS = DB + "permissions:Permissions"
JOB = DB + "job:Job"
CLUSTER = DB + "cluster:Cluster"
POLICY = DB + "clusterPolicy:ClusterPolicy"
SAFE_CONF = {"enableResultsDownloading": "false", "enableExportNotebook": "false", "enableVerboseAuditLogs": "true"}


def conf(values: Mapping[str, Any], name: str = "conf") -> PlannedResource:
    return res(CONF, name, {"customConfig": dict(values)})


JOB_OK = {
    "name": "bronze",
    "runAs": {"servicePrincipalName": UNKNOWN},
    "jobClusters": [
        {
            "jobClusterKey": "main",
            "newCluster": {"sparkVersion": "15.4.x-scala2.12", "dataSecurityMode": "SINGLE_USER", "policyId": UNKNOWN},
        }
    ],
    "tasks": [{"taskKey": "ingest", "jobClusterKey": "main", "sparkPythonTask": {"pythonFile": "x.py"}}],
}
job = builder(JOB, JOB_OK, "job")
case(
    "databricks-token-lifetime",
    "tokens off or short-lived; the workspace default (730 days) fails",
    bad=[
        [conf({"maxTokenLifetimeDays": "365"})],
        [conf({"maxTokenLifetimeDays": "0"})],
        [conf({"maxTokenLifetimeDays": "30"}), res(TOKEN, "t", {"comment": "ci"})],
        [conf({"maxTokenLifetimeDays": "30"}), res(TOKEN, "t", {"lifetimeSeconds": 90 * 86400 + 1})],
        [
            conf({"enableTokensConfig": "false"}),
            res(
                PERMS,
                "p",
                {"authorization": "tokens", "accessControls": [{"groupName": "users", "permissionLevel": "CAN_USE"}]},
            ),
        ],
    ],
    good=[
        [conf({"enableTokensConfig": "false"}), job()],
        [conf({"maxTokenLifetimeDays": "30"}), res(TOKEN, "t", {"lifetimeSeconds": 86400})],
        [conf({"maxTokenLifetimeDays": UNKNOWN})],
    ],
)
case(
    "databricks-token-lifetime",
    "Databricks objects but no WorkspaceConf: the stack as a whole is blamed",
    bad=[[job()]],
    blame="",
)
case(
    "databricks-workspace-exfiltration-settings",
    "download/export off, verbose audit on",
    bad=[[conf({"enableTokensConfig": "false"})], [conf({**SAFE_CONF, "enableExportNotebook": "true"})]],
    good=[[conf(SAFE_CONF)], [conf({"enableTokensConfig": "false"}), conf(SAFE_CONF, name="conf2")]],
)
case(
    "databricks-cluster-access-mode",
    "UC access modes on clusters and every job cluster spec",
    bad=[
        res(CLUSTER, "c", {"sparkVersion": "15.4", "policyId": "p"}),
        job({"jobClusters": [{"jobClusterKey": "m", "newCluster": {"dataSecurityMode": "NONE", "policyId": "p"}}]}),
        job(tasks=[{"taskKey": "t", "newCluster": {"sparkVersion": "15.4", "policyId": "p"}}]),
        job(newCluster={"dataSecurityMode": "LEGACY_PASSTHROUGH", "policyId": "p"}),
    ],
    good=[
        job(),
        res(CLUSTER, "c", {"dataSecurityMode": "USER_ISOLATION", "policyId": "p"}),
        job(tasks=[{"taskKey": "t", "newCluster": {"policyId": UNKNOWN, "applyPolicyDefaultValues": True}}]),
        job(
            {
                "jobClusters": [
                    {
                        "jobClusterKey": "m",
                        "newCluster": {"dataSecurityMode": "DATA_SECURITY_MODE_DEDICATED", "policyId": "p"},
                    }
                ]
            }
        ),
    ],
)
case(
    "databricks-clusters-use-policy",
    "every cluster spec names a policy",
    bad=[
        res(CLUSTER, "c", {"dataSecurityMode": "SINGLE_USER"}),
        job({"jobClusters": [{"jobClusterKey": "m", "newCluster": {"dataSecurityMode": "SINGLE_USER"}}]}),
    ],
    good=[job(), res(CLUSTER, "c", {"dataSecurityMode": "SINGLE_USER", "policyId": UNKNOWN})],
)


def spot_job(**azure: Any) -> PlannedResource:
    base: Any = JOB_OK["jobClusters"]
    cluster = {**base[0]["newCluster"], "azureAttributes": azure}
    return job({"jobClusters": [{"jobClusterKey": "main", "newCluster": cluster}]})


SPOT_RULES = {
    "azure_attributes.availability": {"type": "fixed", "value": "SPOT_WITH_FALLBACK_AZURE"},
    "azure_attributes.first_on_demand": {"type": "fixed", "value": 1},
    "azure_attributes.spot_bid_max_price": {"type": "fixed", "value": -1},
}


def spot_policy(name: str, **rules: Any) -> PlannedResource:
    return res(POLICY, name, {"definition": json.dumps({k.replace("__", "."): v for k, v in rules.items()})})


case(
    "databricks-spot-driver-on-demand",
    "spot workers only with fallback, the driver on demand and no price eviction; in clusters and policies",
    bad=[
        spot_job(availability="SPOT_WITH_FALLBACK_AZURE", firstOnDemand=0, spotBidMaxPrice=-1),
        spot_job(availability="SPOT_WITH_FALLBACK_AZURE", spotBidMaxPrice=-1),
        spot_job(availability="SPOT_AZURE", firstOnDemand=1, spotBidMaxPrice=-1),
        spot_job(availability="SPOT_WITH_FALLBACK_AZURE", firstOnDemand=1, spotBidMaxPrice=0.2),
        res(
            CLUSTER,
            "c",
            {"policyId": "p", "azureAttributes": {"availability": "SPOT_WITH_FALLBACK_AZURE", "firstOnDemand": 0}},
        ),
        spot_policy("p1", azure_attributes__availability=SPOT_RULES["azure_attributes.availability"]),
        spot_policy(
            "p2",
            azure_attributes__availability={"type": "allowlist", "values": ["ON_DEMAND_AZURE", "SPOT_AZURE"]},
            azure_attributes__first_on_demand={"type": "fixed", "value": 1},
            azure_attributes__spot_bid_max_price={"type": "fixed", "value": -1},
        ),
        spot_policy(
            "p3",
            azure_attributes__availability=SPOT_RULES["azure_attributes.availability"],
            azure_attributes__first_on_demand={"type": "range", "minValue": 0, "maxValue": 3},
            azure_attributes__spot_bid_max_price={"type": "fixed", "value": -1},
        ),
    ],
    good=[
        job(),
        spot_job(availability="ON_DEMAND_AZURE"),
        spot_job(availability="SPOT_WITH_FALLBACK_AZURE", firstOnDemand=1, spotBidMaxPrice=-1),
        spot_job(availability="SPOT_WITH_FALLBACK_AZURE", firstOnDemand=UNKNOWN, spotBidMaxPrice=-1),
        res(POLICY, "p4", {"definition": json.dumps(SPOT_RULES)}),
        spot_policy("p5", azure_attributes__availability={"type": "fixed", "value": "ON_DEMAND_AZURE"}),
        res(POLICY, "p6", {"definition": '{"data_security_mode": {"type": "fixed", "value": "SINGLE_USER"}}'}),
    ],
)
case(
    "databricks-cluster-policy-enforces-access-mode",
    "the definition pins a UC access mode",
    bad=[
        res(
            POLICY, "p1", {"name": "jobs", "definition": '{"autotermination_minutes": {"type": "fixed", "value": 30}}'}
        ),
        res(POLICY, "p2", {"definition": '{"data_security_mode": {"type": "fixed", "value": "NONE"}}'}),
        res(POLICY, "p3", {"definition": '{"data_security_mode": {"type": "unlimited"}}'}),
        res(POLICY, "p4", {"definition": "not json"}),
        res(POLICY, "p5", {"policyFamilyId": "job-cluster"}),
    ],
    good=[
        res(POLICY, "p6", {"definition": '{"data_security_mode": {"type": "fixed", "value": "SINGLE_USER"}}'}),
        res(
            POLICY,
            "p7",
            {
                "definition": json.dumps(
                    {"data_security_mode": {"type": "allowlist", "values": ["USER_ISOLATION", "SINGLE_USER"]}}
                )
            },
        ),
        res(POLICY, "p8", {"definition": UNKNOWN}),
        res(
            POLICY,
            "p9",
            {
                "policyFamilyId": "job-cluster",
                "policyFamilyDefinitionOverrides": '{"data_security_mode": {"type": "fixed", "value": "SINGLE_USER"}}',
            },
        ),
    ],
)
SCOPE = DB + "secretScope:SecretScope"
case(
    "databricks-secret-scope-keyvault",
    "Key Vault-backed scopes only",
    bad=[res(SCOPE, "s1", {"name": "app"}), res(SCOPE, "s2", {"name": "app", "backendType": "DATABRICKS"})],
    good=[
        res(SCOPE, "s3", {"name": "app", "keyvaultMetadata": {"resourceId": UNKNOWN, "dnsName": UNKNOWN}}),
        res(
            SCOPE,
            "s4",
            {"backendType": "AZURE_KEYVAULT", "keyvaultMetadata": {"resourceId": "id", "dnsName": "https://kv/"}},
        ),
    ],
)
GRANTS, GRANT = DB + "grants:Grants", DB + "grant:Grant"
case(
    "databricks-uc-grants-least-privilege",
    "no ALL_PRIVILEGES outside the admin list; broad principals read-only",
    bad=[
        res(
            GRANTS,
            "g1",
            {"catalog": "gold", "grants": [{"principal": "data-engineers", "privileges": ["ALL_PRIVILEGES"]}]},
        ),
        res(
            GRANTS,
            "g2",
            {"catalog": "gold", "grants": [{"principal": "account users", "privileges": ["USE_CATALOG", "MODIFY"]}]},
        ),
        res(GRANT, "g3", {"catalog": "gold", "principal": UNKNOWN, "privileges": ["MANAGE"]}),
    ],
    good=[
        res(
            GRANTS,
            "g4",
            {"catalog": "gold", "grants": [{"principal": "account users", "privileges": ["USE_CATALOG", "BROWSE"]}]},
        ),
        res(
            GRANTS,
            "g5",
            {
                "schema": "gold.trades",
                "grants": [{"principal": UNKNOWN, "privileges": ["USE_SCHEMA", "SELECT", "MODIFY"]}],
            },
        ),
    ],
)
case(
    "databricks-uc-grants-least-privilege",
    "admin principals from config",
    good=[
        res(
            GRANTS,
            "g6",
            {"catalog": "gold", "grants": [{"principal": "platform-admins", "privileges": ["ALL_PRIVILEGES"]}]},
        )
    ],
    config={"databricks-uc-grants-least-privilege": {"adminPrincipals": ["platform-admins"]}},
)
case(
    "databricks-job-run-as-service-principal",
    "run as a service principal",
    bad=[job(runAs=DROP), job(runAs={"userName": "alice@example.com"})],
    good=[job(), job(runAs={"servicePrincipalName": "3f1c..."})],
)
case(
    "databricks-no-broad-manage-permissions",
    "CAN_MANAGE to groups/SPs only",
    bad=[
        res(
            PERMS, "p1", {"jobId": UNKNOWN, "accessControls": [{"groupName": "users", "permissionLevel": "CAN_MANAGE"}]}
        ),
        res(
            PERMS,
            "p2",
            {"jobId": UNKNOWN, "accessControls": [{"userName": "bob@example.com", "permissionLevel": "IS_OWNER"}]},
        ),
    ],
    good=[
        res(
            PERMS,
            "p3",
            {"jobId": UNKNOWN, "accessControls": [{"groupName": "platform-admins", "permissionLevel": "CAN_MANAGE"}]},
        ),
        res(PERMS, "p4", {"jobId": UNKNOWN, "accessControls": [{"groupName": "users", "permissionLevel": "CAN_VIEW"}]}),
    ],
)
CRED = DB + "storageCredential:StorageCredential"
case(
    "databricks-storage-credential-managed-identity",
    "access connector, not a client secret",
    bad=[
        res(
            CRED,
            "c1",
            {
                "name": "lake",
                "azureServicePrincipal": {"applicationId": "a", "clientSecret": secret("s"), "directoryId": "d"},
            },
        ),
        res(CRED, "c2", {"name": "lake"}),
    ],
    good=[res(CRED, "c3", {"name": "lake", "azureManagedIdentity": {"accessConnectorId": UNKNOWN}})],
)

# ----------------------------------------------------------------------------- confluent

ENV, NET, KC = CC + "environment:Environment", CC + "network:Network", CC + "kafkaCluster:KafkaCluster"
PLA, PLATT = CC + "privateLinkAccess:PrivateLinkAccess", CC + "privateLinkAttachment:PrivateLinkAttachment"
_env = res(ENV, "env", {"displayName": "rta"})
_net = res(
    NET,
    "net",
    {"cloud": "AZURE", "region": "westeurope", "connectionTypes": ["PRIVATELINK"], "environment": {"id": UNKNOWN}},
    deps={"environment": [_env]},
)


def kafka(name: str = "kafka", **top: Any) -> PlannedResource:
    inputs = patch(
        {"cloud": "AZURE", "region": "westeurope", "availability": "MULTI_ZONE", "environment": {"id": UNKNOWN}},
        None,
        **top,
    )
    return res(KC, name, inputs, deps={"environment": [_env], "network": [_net]})


case(
    "confluent-private-networking",
    "PRIVATELINK networks, no public cluster types, attachments for serverless clusters",
    bad=[
        [res(NET, "n2", {"cloud": "AZURE", "region": "westeurope", "connectionTypes": ["PRIVATELINK", "PEERING"]})],
        [res(NET, "n3", {"cloud": "AZURE", "region": "westeurope"})],
        [_env, kafka(basic={})],
        [_env, kafka(standard={})],
        [_env, kafka(dedicated={"cku": 2})],
        [_env, kafka(enterprises=[{}])],
        [res(PLA, "pla", {"network": {"id": UNKNOWN}, "environment": {"id": UNKNOWN}})],
    ],
    good=[
        [_env, _net, kafka(dedicated={"cku": 2}, network={"id": UNKNOWN}, byokKey={"id": UNKNOWN})],
        [
            _env,
            res(
                PLATT,
                "att",
                {"cloud": "AZURE", "region": "westeurope", "environment": {"id": UNKNOWN}},
                deps={"environment": [_env]},
            ),
            kafka(enterprises=[{}]),
        ],
        [res(PLA, "pla", {"azure": {"subscription": "0000"}, "network": {"id": UNKNOWN}})],
    ],
)
case(
    "confluent-private-networking",
    "connection types from config",
    good=[[res(NET, "n4", {"cloud": "AZURE", "region": "westeurope", "connectionTypes": ["PEERING"]})]],
    config={"confluent-private-networking": {"allowedConnectionTypes": ["PRIVATELINK", "PEERING"]}},
)
RB = CC + "roleBinding:RoleBinding"
case(
    "confluent-rbac-least-privilege",
    "no admin roles; no manage on wildcards",
    bad=[
        res(RB, "r1", {"principal": UNKNOWN, "roleName": "CloudClusterAdmin", "crnPattern": UNKNOWN}),
        res(
            RB,
            "r2",
            {
                "principal": "User:sa-1",
                "roleName": "OrganizationAdmin",
                "crnPattern": "crn://confluent.cloud/organization=o",
            },
        ),
        res(
            RB,
            "r3",
            {
                "principal": "User:sa-1",
                "roleName": "ResourceOwner",
                "crnPattern": "crn://confluent.cloud/kafka=lkc-1/topic=*",
            },
        ),
    ],
    good=[
        res(
            RB,
            "r4",
            {
                "principal": UNKNOWN,
                "roleName": "DeveloperWrite",
                "crnPattern": "crn://confluent.cloud/kafka=lkc-1/topic=trades",
            },
        ),
        res(RB, "r5", {"principal": UNKNOWN, "roleName": "DeveloperRead", "crnPattern": UNKNOWN}),
    ],
)
case(
    "confluent-rbac-least-privilege",
    "admin principals from config",
    good=[res(RB, "r6", {"principal": "User:sa-admin", "roleName": "EnvironmentAdmin", "crnPattern": "crn://x"})],
    config={"confluent-rbac-least-privilege": {"adminPrincipals": ["User:sa-admin"]}},
)
ACL = CC + "kafkaAcl:KafkaAcl"
ACL_OK = {
    "resourceType": "TOPIC",
    "resourceName": "trades",
    "patternType": "LITERAL",
    "principal": "User:sa-1",
    "host": "*",
    "operation": "WRITE",
    "permission": "ALLOW",
}
case(
    "confluent-no-wildcard-acls",
    "wildcard resources, principals and ALL on the cluster",
    bad=[
        res(ACL, "a1", patch(ACL_OK, resourceName="*")),
        res(ACL, "a2", patch(ACL_OK, principal="User:*")),
        res(ACL, "a3", patch(ACL_OK, patternType="PREFIXED", resourceName="")),
        res(ACL, "a4", patch(ACL_OK, resourceType="CLUSTER", resourceName="kafka-cluster", operation="ALL")),
    ],
    good=[res(ACL, "a5", ACL_OK), res(ACL, "a6", patch(ACL_OK, resourceName="*", permission="DENY"))],
)
KEY_ = CC + "apiKey:ApiKey"
case(
    "confluent-api-key-service-account",
    "owned by a service account",
    bad=[
        res(KEY_, "k1", {"owner": {"id": "u-1", "kind": "User", "apiVersion": "iam/v2"}}),
        res(KEY_, "k2", {"displayName": "x"}),
    ],
    good=[res(KEY_, "k3", {"owner": {"id": UNKNOWN, "kind": "ServiceAccount", "apiVersion": "iam/v2"}})],
)
case(
    "confluent-cluster-resilience",
    "multi-zone",
    bad=[kafka(availability="SINGLE_ZONE"), kafka(availability=DROP)],
    good=[kafka()],
)
case(
    "confluent-cluster-byok",
    "Dedicated clusters with BYOK",
    bad=[kafka(dedicated={"cku": 2}, network={"id": "n"})],
    good=[kafka(dedicated={"cku": 2}, network={"id": "n"}, byokKey={"id": UNKNOWN}), kafka(enterprises=[{}])],
)

RESTRICT = DB + "restrictWorkspaceAdminsSetting:RestrictWorkspaceAdminsSetting"
NO_DBFS = DB + "disableLegacyDbfsSetting:DisableLegacyDbfsSetting"
NO_LEGACY = DB + "disableLegacyAccessSetting:DisableLegacyAccessSetting"


def hardening(
    status: str = "RESTRICT_TOKENS_AND_JOB_RUN_AS", dbfs: Any = True, legacy: Any = True
) -> list[PlannedResource]:
    return [
        res(RESTRICT, "restrict", {"restrictWorkspaceAdmins": {"status": status}}),
        res(NO_DBFS, "no-dbfs", {"disableLegacyDbfs": {"value": dbfs}}),
        res(NO_LEGACY, "no-legacy", {"disableLegacyAccess": {"value": legacy}}),
    ]


case(
    "databricks-workspace-hardening-settings",
    "admins restricted, legacy DBFS and access off",
    bad=[hardening(status="ALLOW_ALL"), hardening(dbfs=False)],
    good=[hardening(), hardening(status=UNKNOWN)],
)
case(
    "databricks-workspace-hardening-settings",
    "a missing setting resource leaves the workspace default: the stack is blamed",
    bad=[hardening()[:2]],
    blame="",
)
case(
    "databricks-storage-credential-managed-identity",
    "service credentials too",
    bad=[
        res(
            DB + "credential:Credential",
            "sc1",
            {"name": "evh", "purpose": "SERVICE", "azureServicePrincipal": {"applicationId": "a"}},
        )
    ],
    good=[
        res(
            DB + "credential:Credential",
            "sc2",
            {"name": "evh", "purpose": "SERVICE", "azureManagedIdentity": {"accessConnectorId": UNKNOWN}},
        )
    ],
)

# ----------------------------------------------------------------------------- functions (the API poller)
APP = AZ + "web:WebApp"
APP_OK = {
    "name": "func-rta",
    "resourceGroupName": "rg",
    "location": LOCATION,
    "tags": TAGS,
    "kind": "functionapp,linux",
    "httpsOnly": True,
    "publicNetworkAccess": "Disabled",
    "virtualNetworkSubnetId": UNKNOWN,
    "keyVaultReferenceIdentity": UNKNOWN,
    "functionAppConfig": {
        "deployment": {"storage": {"type": "blobContainer", "authentication": {"type": "UserAssignedIdentity"}}}
    },
    "siteConfig": {
        "ftpsState": "Disabled",
        "minTlsVersion": "1.2",
        "scmMinTlsVersion": "1.2",
        "appSettings": [
            {"name": "AzureWebJobsStorage__accountName", "value": "stfunc"},
            {"name": "AzureWebJobsStorage__credential", "value": "managedidentity"},
            {"name": "AzureWebJobsStorage__clientId", "value": UNKNOWN},
            {"name": "APPLICATIONINSIGHTS_CONNECTION_STRING", "value": UNKNOWN},
            {"name": "POLLER_API_KEY", "value": "@Microsoft.KeyVault(VaultName=kv;SecretName=trades-api-key)"},
            {"name": "POLLER_API_URL", "value": "https://api.example.com/v1/trades"},
        ],
    },
}
app = builder(APP, APP_OK, "func")


def app_setting(name: str, value: Any) -> PlannedResource:
    settings = [s for s in APP_OK["siteConfig"]["appSettings"] if s["name"] != name]  # type: ignore[index]
    return app({"siteConfig.appSettings": [*settings, {"name": name, "value": value}]})


def without_setting(name: str) -> PlannedResource:
    settings = [s for s in APP_OK["siteConfig"]["appSettings"] if s["name"] != name]  # type: ignore[index]
    return app({"siteConfig.appSettings": settings})


case("function-app-https-only", "missing serves HTTP", bad=[app(httpsOnly=DROP), app(httpsOnly=False)], good=[app()])
case(
    "function-app-ftps-disabled",
    "FTPS only is still FTP",
    bad=[app({"siteConfig.ftpsState": "FtpsOnly"}), app({"siteConfig.ftpsState": DROP})],
    good=[app()],
)
case(
    "function-app-public-network-disabled",
    "missing means Enabled",
    bad=[app(publicNetworkAccess="Enabled"), app(publicNetworkAccess=DROP)],
    good=[app()],
)
case(
    "function-app-min-tls",
    "app and SCM site",
    bad=[app({"siteConfig.minTlsVersion": "1.0"}), app({"siteConfig.scmMinTlsVersion": DROP})],
    good=[app(), app({"siteConfig.minTlsVersion": "1.3"})],
)
case(
    "function-app-identity-host-storage",
    "connection strings and key-based deployment storage fail",
    bad=[
        without_setting("AzureWebJobsStorage__accountName"),
        app_setting("AzureWebJobsStorage", "DefaultEndpointsProtocol=https;AccountName=st;AccountKey=abc"),
        app_setting("AzureWebJobsStorage__credential", "connectionstring"),
        app({"functionAppConfig.deployment.storage.authentication.type": "StorageAccountConnectionString"}),
    ],
    good=[app()],
)
case(
    "function-app-no-plain-secrets",
    "a secret-named setting must be a Key Vault reference; credential fragments fail anywhere",
    bad=[
        app_setting("POLLER_API_KEY", "abc123"),
        app_setting("POLLER_KAFKA_API_SECRET", "s3cr3t"),
        app_setting("POLLER_UPSTREAM", "Endpoint=sb://x/;SharedAccessKey=abc"),
    ],
    good=[app(), app_setting("POLLER_API_KEY", UNKNOWN)],
)
INSIGHTS_OK = {
    "resourceName": "appi",
    "resourceGroupName": "rg",
    "location": LOCATION,
    "tags": TAGS,
    "kind": "web",
    "applicationType": "web",
    "disableLocalAuth": True,
}
appi = builder(AZ + "applicationinsights:Component", INSIGHTS_OK, "appi")
case(
    "appinsights-local-auth-disabled",
    "missing accepts instrumentation keys",
    bad=[appi(disableLocalAuth=DROP), appi(disableLocalAuth=False)],
    good=[appi()],
)
case(
    "function-app-vnet-integration",
    "no subnet, no private reach",
    bad=[app(virtualNetworkSubnetId=DROP)],
    good=[app()],
)
_app = app()
case(
    "function-app-private-endpoint",
    "a function app needs a 'sites' endpoint",
    bad=[[_app], [_app, pe("func-blob", _app, "blob")]],
    good=[[_app, pe("func-sites", _app, "sites")]],
)


def basic_auth(kind: str, allow: Any, app_name: str = "func-rta") -> PlannedResource:
    type_ = AZ + ("web:WebAppFtpAllowed" if kind == "ftp" else "web:WebAppScmAllowed")
    return res(type_, f"func-{kind}", {"name": app_name, "resourceGroupName": "rg", "allow": allow})


case(
    "function-app-basic-auth-disabled",
    "both companions, allow=false; a missing companion fails",
    bad=[
        [_app, basic_auth("ftp", False)],
        [_app, basic_auth("ftp", False), basic_auth("scm", True)],
        [_app, basic_auth("ftp", False), basic_auth("scm", False, app_name="other")],
    ],
    good=[[_app, basic_auth("ftp", False), basic_auth("scm", False)]],
)

# ----------------------------------------------------------------------------- kusto (the hot path)
KUSTO_OK = {
    "clusterName": "kurta",
    "resourceGroupName": "rg",
    "location": LOCATION,
    "tags": TAGS,
    "sku": {"name": "Standard_E2ads_v5", "tier": "Standard", "capacity": 2},
    "publicNetworkAccess": "Disabled",
    "restrictOutboundNetworkAccess": "Enabled",
    "enableDiskEncryption": True,
    "enableDoubleEncryption": True,
    "keyVaultProperties": {"keyName": "kusto", "keyVaultUri": UNKNOWN, "userIdentity": UNKNOWN},
    "trustedExternalTenants": [],
    "enablePurge": False,
}
kc = builder(AZ + "kusto:Cluster", KUSTO_OK, "kusto")
case(
    "kusto-public-network-disabled",
    "missing means Enabled",
    bad=[kc(publicNetworkAccess="Enabled"), kc(publicNetworkAccess=DROP)],
    good=[kc()],
)
case(
    "kusto-outbound-restricted",
    "missing means unrestricted",
    bad=[kc(restrictOutboundNetworkAccess="Disabled"), kc(restrictOutboundNetworkAccess=DROP)],
    good=[kc()],
)
case("kusto-disk-encryption", "default false", bad=[kc(enableDiskEncryption=DROP)], good=[kc()])
case(
    "kusto-cmk-double-encryption",
    "both a customer-managed key and double encryption",
    bad=[kc(keyVaultProperties=DROP), kc(enableDoubleEncryption=False)],
    good=[kc()],
)
case(
    "kusto-no-external-tenants",
    "unset trusts every tenant; '*' too",
    bad=[kc(trustedExternalTenants=DROP), kc(trustedExternalTenants=[{"value": "*"}])],
    good=[kc(), kc(trustedExternalTenants=[{"value": "72f988bf-86f1-41af-91ab-2d7cd011db47"}])],
)
_kc = kc()
case(
    "kusto-private-endpoint",
    "a cluster needs a 'cluster' endpoint",
    bad=[[_kc]],
    good=[[_kc, pe("kusto-pe", _kc, "cluster")]],
)
case("kusto-purge-disabled", "purge is irrecoverable", bad=[kc(enablePurge=True)], good=[kc(), kc(enablePurge=DROP)])

# The egress, flow-log, monitoring, Defender and hardening cases register themselves (issue 33).
from tests.policies import cases_egress, cases_operations  # noqa: E402,F401
