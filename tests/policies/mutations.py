"""One mutation per policy: make one of the stack's own resources non-compliant in exactly that policy's way.

Each mutation edits (or removes) a resource of the recorded plan in place and
returns True; it returns False when the plan has no resource it applies to (a
type the stack does not register, such as Confluent in the Event Hubs-based
prod stack). The test then falls back to the policy's synthetic cases:
baseline = plan + a compliant group, mutated = plan + a non-compliant group.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from offline.plan import Plan, PlannedResource
from tests.builtin_roles import CONTRIBUTOR, OWNER

AZ = "azure-native:"
DB = "databricks:index/"
CC = "confluentcloud:index/"
ROLE_PREFIX = "/providers/Microsoft.Authorization/roleDefinitions/"
SUBSCRIPTION = "/subscriptions/00000000-0000-0000-0000-00000000aaaa"

Apply = Callable[[Plan], bool]
MUTATIONS: dict[str, Apply] = {}


def pick(plan: Plan, type_: str, where: Callable[[PlannedResource], bool] = lambda r: True) -> PlannedResource | None:
    return next((r for r in plan.resources if r.type == type_ and where(r)), None)


def set_path(inputs: dict[str, Any], path: str, value: Any) -> None:
    keys = path.split(".")
    node = inputs
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value


def drop_path(inputs: dict[str, Any], path: str) -> None:
    keys = path.split(".")
    node = inputs
    for key in keys[:-1]:
        node = node.get(key, {})
    node.pop(keys[-1], None)


def mutation(policy: str) -> Callable[[Apply], Apply]:
    def register(fn: Apply) -> Apply:
        MUTATIONS[policy] = fn
        return fn

    return register


def edit(
    policy: str, type_: str, changes: dict[str, Any], where: Callable[[PlannedResource], bool] = lambda r: True
) -> None:
    """Register a mutation that sets (None: removes) dotted input paths on the first matching resource."""

    def apply(plan: Plan) -> bool:
        target = pick(plan, type_, where)
        if target is None:
            return False
        for path, value in changes.items():
            if value is None:
                drop_path(target.inputs, path)
            else:
                set_path(target.inputs, path, value)
        return True

    MUTATIONS[policy] = apply


def linked(plan: Plan, type_: str, target: PlannedResource, prop: str) -> list[PlannedResource]:
    """Resources of `type_` whose `prop` input is fed by `target`."""
    return [r for r in plan.of_type(type_) if target.urn in r.property_dependencies.get(prop, [])]


def endpoints(plan: Plan, target: PlannedResource) -> list[PlannedResource]:
    return linked(plan, AZ + "network:PrivateEndpoint", target, "privateLinkServiceConnections")


def remove(plan: Plan, *resources: PlannedResource) -> None:
    gone = {r.urn for r in resources}
    plan.resources = [r for r in plan.resources if r.urn not in gone]


def remove_endpoint(type_: str, *groups: str) -> Apply:
    """Remove the target's endpoint for one of the group ids its policy requires."""

    def apply(plan: Plan) -> bool:
        for target in plan.of_type(type_):
            for pe in endpoints(plan, target):
                ids = {g for c in pe.inputs.get("privateLinkServiceConnections", []) for g in c.get("groupIds", [])}
                if ids & set(groups):
                    remove(plan, pe)
                    return True
        return False

    return apply


def internet_rule(**fields: Any) -> dict[str, Any]:
    return {
        "name": "mutation",
        "access": "Allow",
        "direction": "Inbound",
        "protocol": "Tcp",
        "priority": 110,
        "sourceAddressPrefix": "Internet",
        "sourcePortRange": "*",
        "destinationAddressPrefix": "*",
        **fields,
    }


def add_rule(rule: dict[str, Any]) -> Apply:
    def apply(plan: Plan) -> bool:
        nsg = pick(plan, AZ + "network:NetworkSecurityGroup")
        if nsg is None:
            return False
        nsg.inputs.setdefault("securityRules", []).append(rule)
        return True

    return apply


# ----------------------------------------------------------------------------- storage

SA, BC = AZ + "storage:StorageAccount", AZ + "storage:BlobContainer"
edit("storage-secure-transfer", SA, {"enableHttpsTrafficOnly": False})
edit("storage-min-tls", SA, {"minimumTlsVersion": "TLS1_0"})
edit("storage-no-shared-key", SA, {"allowSharedKeyAccess": None})
edit("storage-no-anonymous-blob-access", SA, {"allowBlobPublicAccess": True})
edit("storage-container-private", BC, {"publicAccess": "Container"})
edit("storage-public-network-disabled", SA, {"publicNetworkAccess": "Enabled"})
edit("storage-firewall-default-deny", SA, {"networkRuleSet.defaultAction": "Allow"})
edit("storage-infrastructure-encryption", SA, {"encryption.requireInfrastructureEncryption": False})
edit("storage-no-local-users-sftp", SA, {"isLocalUserEnabled": True})
edit("storage-no-cross-tenant-replication", SA, {"allowCrossTenantReplication": True})
edit("storage-trusted-services-bypass", SA, {"networkRuleSet.bypass": "None"})
edit("storage-customer-managed-key", SA, {"encryption.keySource": "Microsoft.Storage"})
edit("storage-blob-soft-delete", AZ + "storage:BlobServiceProperties", {"deleteRetentionPolicy.enabled": False})
MUTATIONS["storage-private-endpoint"] = remove_endpoint(SA, "blob")

# ----------------------------------------------------------------------------- key vault

VAULT = AZ + "keyvault:Vault"
edit("keyvault-rbac-authorization", VAULT, {"properties.enableRbacAuthorization": False})
edit("keyvault-purge-protection", VAULT, {"properties.enablePurgeProtection": None})
edit("keyvault-soft-delete-retention", VAULT, {"properties.softDeleteRetentionInDays": 7})
edit("keyvault-public-network-disabled", VAULT, {"properties.publicNetworkAccess": "Enabled"})
edit("keyvault-firewall-default-deny", VAULT, {"properties.networkAcls.defaultAction": "Allow"})
edit(
    "keyvault-least-privilege-access-policies",
    VAULT,
    {"properties.accessPolicies": [{"objectId": "o", "tenantId": "t", "permissions": {"secrets": ["get", "all"]}}]},
)
edit("keyvault-key-rotation-expiry", AZ + "keyvault:Key", {"properties.rotationPolicy": None})
MUTATIONS["keyvault-private-endpoint"] = remove_endpoint(VAULT, "vault")


@mutation("keyvault-audit-logs")
def _vault_logs_without_audit(plan: Plan) -> bool:
    for vault in plan.of_type(VAULT):
        settings = linked(plan, AZ + "monitor:DiagnosticSetting", vault, "resourceUri")
        for s in settings:
            s.inputs["logs"] = [{"category": "AzurePolicyEvaluationDetails", "enabled": True}]
        if settings:
            return True
    return False


# ----------------------------------------------------------------------------- event hubs

NS = AZ + "eventhub:Namespace"
edit("eventhub-local-auth-disabled", NS, {"disableLocalAuth": False})
edit("eventhub-min-tls", NS, {"minimumTlsVersion": "1.0"})
edit("eventhub-public-network-disabled", NS, {"publicNetworkAccess": "Enabled"})
edit(
    "eventhub-customer-managed-key",
    NS,
    {"encryption": None},
    where=lambda r: str(r.inputs.get("sku", {}).get("name", "")).lower() == "premium",
)
MUTATIONS["eventhub-private-endpoint"] = remove_endpoint(NS, "namespace")

# ----------------------------------------------------------------------------- databricks workspace

WS = AZ + "databricks:Workspace"
edit("databricks-no-public-ip", WS, {"parameters.enableNoPublicIp": {"value": False}})
edit("databricks-vnet-injection", WS, {"parameters.customVirtualNetworkId": None})
edit("databricks-public-network-disabled", WS, {"publicNetworkAccess": "Enabled", "requiredNsgRules": "AllRules"})
edit("databricks-backend-private-link", WS, {"requiredNsgRules": "AllRules"})
edit("databricks-premium-sku", WS, {"sku": {"name": "standard"}})
edit("databricks-customer-managed-keys", WS, {"encryption": None})
edit("databricks-infrastructure-encryption", WS, {"parameters.requireInfrastructureEncryption": None})
edit("databricks-default-storage-firewall", WS, {"defaultStorageFirewall": "Disabled"})
MUTATIONS["databricks-private-endpoint"] = remove_endpoint(WS, "databricks_ui_api")

# ----------------------------------------------------------------------------- sql

SERVER = AZ + "sql:Server"
edit("sql-entra-only-auth", SERVER, {"administrators.azureADOnlyAuthentication": False})
edit("sql-min-tls", SERVER, {"minimalTlsVersion": "1.0"})
edit("sql-public-network-disabled", SERVER, {"publicNetworkAccess": "Enabled"})
edit("sql-tde-enabled", AZ + "sql:TransparentDataEncryption", {"state": "Disabled"})
edit("sql-auditing", AZ + "sql:ServerBlobAuditingPolicy", {"state": "Disabled"})
edit("sql-threat-protection", AZ + "sql:ServerSecurityAlertPolicy", {"state": "Disabled"})
edit("sql-restrict-outbound", SERVER, {"restrictOutboundNetworkAccess": "Disabled"})
MUTATIONS["sql-private-endpoint"] = remove_endpoint(SERVER, "sqlServer")


@mutation("sql-no-firewall-rules")
def _allow_azure_services(plan: Plan) -> bool:
    server = pick(plan, SERVER)
    if server is None:
        return False
    inputs = {"serverName": server.inputs.get("serverName"), "startIpAddress": "0.0.0.0", "endIpAddress": "0.0.0.0"}
    plan.resources.append(
        PlannedResource(
            urn=server.urn.rsplit("::", 1)[0].replace("sql:Server", "sql:FirewallRule") + "::allow-azure",
            type=AZ + "sql:FirewallRule",
            name="allow-azure",
            custom=True,
            inputs=inputs,
            parent=server.parent,
            dependencies=[server.urn],
            property_dependencies={"serverName": [server.urn]},
        )
    )
    return True


@mutation("sql-tde-customer-managed-key")
def _service_managed_tde(plan: Plan) -> bool:
    server = pick(plan, SERVER)
    if server is None:
        return False
    server.inputs.pop("keyId", None)
    for protector in plan.of_type(AZ + "sql:EncryptionProtector"):
        protector.inputs["serverKeyType"] = "ServiceManaged"
    return True


# ----------------------------------------------------------------------------- network

NSG, SUBNET = AZ + "network:NetworkSecurityGroup", AZ + "network:Subnet"
MUTATIONS["nsg-no-internet-ssh"] = add_rule(internet_rule(destinationPortRange="22"))
MUTATIONS["nsg-no-internet-rdp"] = add_rule(internet_rule(destinationPortRange="3389"))
MUTATIONS["nsg-no-internet-ingress"] = add_rule(
    internet_rule(sourceAddressPrefix="0.0.0.0/0", destinationPortRange="443")
)
MUTATIONS["nsg-no-internet-egress"] = add_rule(
    internet_rule(direction="Outbound", sourceAddressPrefix="VirtualNetwork", destinationAddressPrefix="Internet")
)
# A subnet that has one (AzureFirewallSubnet, exempt and NSG-less, comes first in prod).
edit("subnet-has-nsg", SUBNET, {"networkSecurityGroup": None}, where=lambda r: "networkSecurityGroup" in r.inputs)
edit(
    "subnet-no-default-outbound",
    SUBNET,
    {"defaultOutboundAccess": True},
    # Not delegated, not a subnet Azure reserves (AzureFirewallSubnet is exempt).
    where=lambda r: not r.inputs.get("delegations") and not r.inputs.get("subnetName", "").startswith("Azure"),
)
edit("private-dns-link-no-autoregistration", AZ + "privatedns:VirtualNetworkLink", {"registrationEnabled": True})
edit(
    "nic-no-public-ip",
    AZ + "network:NetworkInterface",
    {"ipConfigurations": [{"name": "ipconfig", "publicIPAddress": {"id": "pip"}}]},
)


@mutation("private-endpoint-dns-zone-group")
def _unregistered_endpoint(plan: Plan) -> bool:
    for pe in plan.of_type(AZ + "network:PrivateEndpoint"):
        groups = linked(plan, AZ + "network:PrivateDnsZoneGroup", pe, "privateEndpointName")
        if groups:
            remove(plan, *groups)
            return True
    return False


# ----------------------------------------------------------------------------- monitoring, identity, governance

edit("log-analytics-hardening", AZ + "operationalinsights:Workspace", {"retentionInDays": 30})


@mutation("diagnostic-settings-present")
def _namespace_without_logs(plan: Plan) -> bool:
    for type_ in (NS, SERVER.replace("Server", "Database"), NSG):
        for target in plan.of_type(type_):
            settings = linked(plan, AZ + "monitor:DiagnosticSetting", target, "resourceUri")
            if settings:
                remove(plan, *settings)
                return True
    return False


def _sp_assignment(r: PlannedResource) -> bool:
    return r.inputs.get("principalType") == "ServicePrincipal"


edit(
    "rbac-no-privileged-roles-for-service-principals",
    AZ + "authorization:RoleAssignment",
    {"roleDefinitionId": SUBSCRIPTION + ROLE_PREFIX + OWNER},
    where=_sp_assignment,
)
edit(
    "rbac-no-subscription-contributor",
    AZ + "authorization:RoleAssignment",
    {"roleDefinitionId": SUBSCRIPTION + ROLE_PREFIX + CONTRIBUTOR, "scope": SUBSCRIPTION},
)


@mutation("required-tags")
def _untagged(plan: Plan) -> bool:
    target = pick(plan, SA)
    if target is None or not isinstance(target.inputs.get("tags"), dict):
        return False
    target.inputs["tags"].pop("owner", None)
    return True


edit("allowed-regions", SA, {"location": "eastus"})

# ----------------------------------------------------------------------------- databricks objects

JOB = DB + "job:Job"


def _has_cluster(r: PlannedResource) -> bool:
    return bool(r.inputs.get("jobClusters") or any("newCluster" in t for t in r.inputs.get("tasks", [])))


@mutation("databricks-token-lifetime")
def _long_tokens(plan: Plan) -> bool:
    confs = plan.of_type(DB + "workspaceConf:WorkspaceConf")
    governing = [
        c for c in confs if {"maxTokenLifetimeDays", "enableTokensConfig"} & set(c.inputs.get("customConfig", {}))
    ]
    if not governing:
        return False
    for c in governing:
        c.inputs["customConfig"].pop("enableTokensConfig", None)
        c.inputs["customConfig"]["maxTokenLifetimeDays"] = "730"
    return True


@mutation("databricks-workspace-exfiltration-settings")
def _downloads_on(plan: Plan) -> bool:
    confs = [
        c
        for c in plan.of_type(DB + "workspaceConf:WorkspaceConf")
        if "enableResultsDownloading" in c.inputs.get("customConfig", {})
    ]
    for c in confs:
        c.inputs["customConfig"]["enableResultsDownloading"] = "true"
    return bool(confs)


def _first_cluster_spec(plan: Plan) -> dict[str, Any] | None:
    for job in plan.of_type(JOB):
        for jc in job.inputs.get("jobClusters", []):
            if isinstance(jc.get("newCluster"), dict):
                return jc["newCluster"]
        for task in job.inputs.get("tasks", []):
            if isinstance(task.get("newCluster"), dict):
                return task["newCluster"]
    return None


@mutation("databricks-cluster-access-mode")
def _no_isolation(plan: Plan) -> bool:
    spec = _first_cluster_spec(plan)
    if spec is None:
        return False
    spec["dataSecurityMode"] = "NONE"
    return True


@mutation("databricks-clusters-use-policy")
def _no_policy(plan: Plan) -> bool:
    spec = _first_cluster_spec(plan)
    if spec is None:
        return False
    spec.pop("policyId", None)
    if spec.get("dataSecurityMode") is None:
        spec["dataSecurityMode"] = "SINGLE_USER"  # keep the access mode compliant on its own
    spec.pop("applyPolicyDefaultValues", None)
    return True


@mutation("databricks-spot-driver-on-demand")
def _driver_on_spot(plan: Plan) -> bool:
    spec = _first_cluster_spec(plan)
    if spec is None:
        return False
    spec["azureAttributes"] = {"availability": "SPOT_WITH_FALLBACK_AZURE", "firstOnDemand": 0, "spotBidMaxPrice": -1}
    return True


@mutation("databricks-cluster-policy-enforces-access-mode")
def _open_policy(plan: Plan) -> bool:
    policy = pick(plan, DB + "clusterPolicy:ClusterPolicy")
    if policy is None:
        return False
    policy.inputs.pop("policyFamilyDefinitionOverrides", None)
    policy.inputs["definition"] = '{"autotermination_minutes": {"type": "fixed", "value": 30}}'
    return True


edit(
    "databricks-secret-scope-keyvault",
    DB + "secretScope:SecretScope",
    {"keyvaultMetadata": None, "backendType": "DATABRICKS"},
)
edit("databricks-job-run-as-service-principal", JOB, {"runAs": {"userName": "someone@example.com"}})
edit(
    "databricks-storage-credential-managed-identity",
    DB + "storageCredential:StorageCredential",
    {"azureManagedIdentity": None},
)


@mutation("databricks-uc-grants-least-privilege")
def _all_privileges(plan: Plan) -> bool:
    grants = pick(plan, DB + "grants:Grants", lambda r: bool(r.inputs.get("grants")))
    if grants is None:
        return False
    grants.inputs["grants"].append({"principal": "data-engineers", "privileges": ["ALL_PRIVILEGES"]})
    return True


@mutation("databricks-no-broad-manage-permissions")
def _users_manage(plan: Plan) -> bool:
    perms = pick(plan, DB + "permissions:Permissions", lambda r: r.inputs.get("authorization") != "tokens")
    if perms is None:
        return False
    perms.inputs.setdefault("accessControls", []).append({"groupName": "users", "permissionLevel": "CAN_MANAGE"})
    return True


edit(
    "databricks-workspace-hardening-settings",
    DB + "restrictWorkspaceAdminsSetting:RestrictWorkspaceAdminsSetting",
    {"restrictWorkspaceAdmins.status": "ALLOW_ALL"},
)

# ----------------------------------------------------------------------------- confluent

KC = CC + "kafkaCluster:KafkaCluster"
edit("confluent-private-networking", CC + "network:Network", {"connectionTypes": ["PRIVATELINK", "PEERING"]})
edit("confluent-rbac-least-privilege", CC + "roleBinding:RoleBinding", {"roleName": "CloudClusterAdmin"})
edit(
    "confluent-no-wildcard-acls",
    CC + "kafkaAcl:KafkaAcl",
    {"resourceName": "*", "patternType": "LITERAL", "permission": "ALLOW"},
)
edit("confluent-api-key-service-account", CC + "apiKey:ApiKey", {"owner.kind": "User"})
edit(
    "confluent-cluster-resilience",
    KC,
    {"availability": "SINGLE_ZONE"},
    where=lambda r: r.inputs.get("availability") != "SINGLE_ZONE",
)
edit("confluent-cluster-byok", KC, {"byokKey": None}, where=lambda r: r.inputs.get("dedicated") is not None)

# ----------------------------------------------------------------------------- functions: prod registers no
# function app today, so these fall back to the synthetic cases; they bite on any stack that enables the poller.
FUNC = AZ + "web:WebApp"
edit("function-app-https-only", FUNC, {"httpsOnly": False})
edit("function-app-ftps-disabled", FUNC, {"siteConfig.ftpsState": "AllAllowed"})
edit("function-app-public-network-disabled", FUNC, {"publicNetworkAccess": "Enabled"})
edit("function-app-min-tls", FUNC, {"siteConfig.minTlsVersion": "1.0"})
edit("function-app-vnet-integration", FUNC, {"virtualNetworkSubnetId": None})
edit("appinsights-local-auth-disabled", AZ + "applicationinsights:Component", {"disableLocalAuth": False})


def _with_setting(policy: str, name: str, value: str) -> None:
    def apply(plan: Plan) -> bool:
        target = pick(plan, FUNC)
        if target is None:
            return False
        settings = target.inputs.setdefault("siteConfig", {}).setdefault("appSettings", [])
        settings.append({"name": name, "value": value})
        return True

    MUTATIONS[policy] = apply


_with_setting("function-app-identity-host-storage", "AzureWebJobsStorage", "AccountName=st;AccountKey=abc")
_with_setting("function-app-no-plain-secrets", "POLLER_API_KEY_COPY", "abc123")
MUTATIONS["function-app-private-endpoint"] = remove_endpoint(FUNC, "sites")


@mutation("function-app-basic-auth-disabled")
def _scm_basic_auth_on(plan: Plan) -> bool:
    target = pick(plan, AZ + "web:WebAppScmAllowed")
    if target is None:
        return False
    target.inputs["allow"] = True
    return True


# ----------------------------------------------------------------------------- kusto: prod has no hot path,
# so these fall back to the synthetic cases; they bite on any stack with `hotPath: kusto`.
KUSTO = AZ + "kusto:Cluster"
edit("kusto-public-network-disabled", KUSTO, {"publicNetworkAccess": "Enabled"})
edit("kusto-outbound-restricted", KUSTO, {"restrictOutboundNetworkAccess": "Disabled"})
edit("kusto-disk-encryption", KUSTO, {"enableDiskEncryption": False})
edit("kusto-cmk-double-encryption", KUSTO, {"enableDoubleEncryption": False})
edit("kusto-no-external-tenants", KUSTO, {"trustedExternalTenants": [{"value": "*"}]})
edit("kusto-purge-disabled", KUSTO, {"enablePurge": True})
MUTATIONS["kusto-private-endpoint"] = remove_endpoint(KUSTO, "cluster")

# Mutations for the egress, flow-log, monitoring, Defender and hardening policies (issue 33).
from tests.policies import mutations_egress  # noqa: E402,F401


# ----------------------------------------------------------------------------- operations (issue 34)
@mutation("operations-alerting")
def _no_budget(plan: Plan) -> bool:
    budget = pick(plan, AZ + "consumption:Budget")
    if budget is None:
        return False
    remove(plan, budget)
    return True
