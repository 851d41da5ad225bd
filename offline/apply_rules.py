"""Apply-time rules: what Azure or Databricks refuses, or silently ignores, when the plan is applied.

The policy pack asks whether a plan is secure; these rules ask whether a real
`pulumi up` of it would succeed and do what it says. Each rule is one thing a
provider's API refuses (an HSM key in a standard vault, a duplicate server key)
or accepts and then ignores (a retry setting a continuous job never reads). Each
rule's docstring cites where that behaviour is documented: a doc page, the
provider's source, or a public issue. They run on the recorded plan in the
offline preview (beside the policy verdicts; an error fails it with exit 3) and
in the tests, where each rule bites on a minimal plan (tests/test_apply_rules.py).

Rules see the plan both as a first preview (ids and computed outputs unknown)
and as an up: links between resources are followed through property
dependencies (known in both) or ids and names (when known). A rule reports how
many resources it checked, so a rule with nothing to check says so instead of
passing silently; resources a rule does not know (added later by other
components) are simply not its business.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from offline.plan import UNKNOWN, Plan, PlannedResource

STORAGE = "azure-native:storage:StorageAccount"
VAULT = "azure-native:keyvault:Vault"
KEY = "azure-native:keyvault:Key"
NAMESPACE = "azure-native:eventhub:Namespace"
WORKSPACE = "azure-native:databricks:Workspace"
SQL_SERVER = "azure-native:sql:Server"
SQL_SERVER_KEY = "azure-native:sql:ServerKey"
PRIVATE_ENDPOINT = "azure-native:network:PrivateEndpoint"
DNS_ZONE_GROUP = "azure-native:network:PrivateDnsZoneGroup"
DNS_ZONE = "azure-native:privatedns:PrivateZone"
SUBNET = "azure-native:network:Subnet"
FUNCTION_APP = "azure-native:web:WebApp"
KUSTO_CLUSTER = "azure-native:kusto:Cluster"
MONITOR_SCOPE = "azure-native:monitor:PrivateLinkScope"
MANAGEMENT_POLICY = "azure-native:storage:ManagementPolicy"
EXTERNAL_LOCATION = "databricks:index/externalLocation:ExternalLocation"

ZONE_REDUNDANT_SKUS = ("Standard_ZRS", "Standard_GZRS", "Standard_RAGZRS", "Premium_ZRS")


@dataclass(frozen=True)
class Finding:
    rule: str
    urn: str
    resource: str
    resource_type: str
    message: str


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    check: Callable[[PlanIndex], Iterable[tuple[PlannedResource, str | None]]]

    @property
    def source(self) -> str:
        return (self.check.__doc__ or "").strip()


@dataclass
class ApplyReport:
    checked: dict[str, int] = field(default_factory=dict)  # rule id -> resources checked
    findings: list[Finding] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return bool(self.findings)


RULES: list[Rule] = []


def rule(rule_id: str, title: str) -> Callable[[Callable[[PlanIndex], Iterable[Any]]], Callable[[PlanIndex], Any]]:
    """Register an apply-time rule: a generator of (resource checked, error message or None)."""

    def register(check: Callable[[PlanIndex], Iterable[Any]]) -> Callable[[PlanIndex], Any]:
        assert all(r.id != rule_id for r in RULES), f"duplicate apply-time rule id {rule_id}"
        RULES.append(Rule(rule_id, title, check))
        return check

    return register


# ----------------------------------------------------------------------------- plan queries


def dig(value: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def known(value: Any) -> bool:
    return value is not None and value != UNKNOWN


class PlanIndex:
    """The plan, indexed once for every rule (rules must stay cheap: the prod preview has a 4 s budget)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.by_urn = {r.urn: r for r in plan.resources}
        self._by_type: dict[str, list[PlannedResource]] = defaultdict(list)
        self._by_id: dict[str, PlannedResource] = {}
        self._ancestors: dict[str, frozenset[str]] = {}
        for r in plan.resources:
            self._by_type[r.type].append(r)
            if r.id:
                self._by_id[r.id] = r

    def of_type(self, type_token: str) -> list[PlannedResource]:
        return self._by_type.get(type_token, [])

    def ancestors(self, r: PlannedResource) -> frozenset[str]:
        """Every URN `r` waits for: its dependencies, theirs, and so on (memoised; the plan is a DAG)."""
        memo = self._ancestors
        if r.urn in memo:
            return memo[r.urn]
        stack: list[tuple[PlannedResource, bool]] = [(r, False)]
        while stack:
            node, expanded = stack.pop()
            if node.urn in memo:
                continue
            deps = [self.by_urn[u] for u in node.dependencies if u in self.by_urn]
            if not expanded:
                stack.append((node, True))
                stack.extend((d, False) for d in deps if d.urn not in memo)
                continue
            found: set[str] = set(node.dependencies)
            for d in deps:
                found |= memo.get(d.urn, frozenset())
            memo[node.urn] = frozenset(found)
        return memo[r.urn]

    def provider_of(self, r: PlannedResource) -> PlannedResource | None:
        """The explicit provider resource `r` is created through (a reference is "<urn>::<id>")."""
        return self.by_urn.get(r.provider.rsplit("::", 1)[0]) if r.provider else None

    def linked(self, r: PlannedResource, input_name: str, type_token: str) -> list[PlannedResource]:
        """Resources of `type_token` that `r`'s input `input_name` refers to (by dependency, id or name)."""
        found = [
            self.by_urn[u]
            for u in r.property_dependencies.get(input_name, [])
            if u in self.by_urn and self.by_urn[u].type == type_token
        ]
        if found:
            return found
        strings = _strings(r.inputs.get(input_name))
        found = [self._by_id[s] for s in strings if s in self._by_id and self._by_id[s].type == type_token]
        if found:
            return found
        # Names are inputs, known even in a first preview (e.g. accountName, vaultName).
        return [t for t in self.of_type(type_token) if _azure_name(t) in strings]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value != UNKNOWN else []
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


_NAME_INPUTS = ("accountName", "vaultName", "namespaceName", "serverName", "workspaceName", "privateZoneName")


def _azure_name(r: PlannedResource) -> str | None:
    return next((r.inputs[k] for k in _NAME_INPUTS if known(r.inputs.get(k))), None)


# ----------------------------------------------------------------------------- rules


@rule("AT-01", "HSM-protected keys only in a Premium vault")
def hsm_key_needs_premium_vault(ix: PlanIndex) -> Iterator[tuple[PlannedResource, str | None]]:
    """Key Vault Standard refuses HSM-protected keys (RSA-HSM, EC-HSM); only Premium has HSMs.

    Source: https://learn.microsoft.com/azure/key-vault/keys/about-keys (key types and protection
    methods: "HSM-protected keys ... Premium SKU only").
    """
    for key in ix.of_type(KEY):
        kty = str(dig(key.inputs, "properties", "kty") or "")
        for vault in ix.linked(key, "vaultName", VAULT):
            sku = dig(vault.inputs, "properties", "sku", "name")
            bad = kty.endswith("-HSM") and known(sku) and str(sku).lower() != "premium"
            yield (
                key,
                f"{kty} key in vault {vault.name!r} of sku {sku!r}: only a premium vault holds HSM keys"
                if bad
                else None,
            )


@rule("AT-02", "a customer-managed key's vault has soft delete and purge protection")
def cmk_vault_recoverable(ix: PlanIndex) -> Iterator[tuple[PlannedResource, str | None]]:
    """Storage, SQL TDE and Event Hubs refuse a customer-managed key from a vault without soft delete
    and purge protection.

    Sources: https://learn.microsoft.com/azure/storage/common/customer-managed-keys-overview
    (key vault requirements); https://learn.microsoft.com/azure/azure-sql/database/transparent-data-encryption-byok-overview
    (requirements for configuring TDE protector); https://learn.microsoft.com/azure/event-hubs/configure-customer-managed-key.
    """
    vaults = {v.urn: v for key in ix.of_type(KEY) for v in ix.linked(key, "vaultName", VAULT)}
    for vault in vaults.values():
        props = vault.inputs.get("properties") or {}
        missing = [
            name
            for name, value in (
                ("enablePurgeProtection", props.get("enablePurgeProtection")),
                ("enableSoftDelete", props.get("enableSoftDelete", True)),
            )
            if value is not True
        ]
        yield vault, f"vault holds customer-managed keys but {missing} is not true" if missing else None


@rule("AT-03", "Event Hubs customer-managed keys only on Premium or Dedicated")
def eventhubs_cmk_tier(ix: PlanIndex) -> Iterator[tuple[PlannedResource, str | None]]:
    """Event Hubs encrypts with a customer-managed key only in the Premium and Dedicated tiers.

    Source: https://learn.microsoft.com/azure/event-hubs/configure-customer-managed-key ("available
    only in the Premium and Dedicated tiers").
    """
    for ns in ix.of_type(NAMESPACE):
        if str(dig(ns.inputs, "encryption", "keySource") or "").lower() != "microsoft.keyvault":
            continue
        tier = dig(ns.inputs, "sku", "name")
        bad = known(tier) and tier not in ("Premium",) and not known(ns.inputs.get("clusterArmId"))
        yield ns, f"customer-managed key on a {tier} namespace" if bad else None


@rule("AT-04", "Databricks private link and customer-managed keys need the Premium plan")
def databricks_premium_features(ix: PlanIndex) -> Iterator[tuple[PlannedResource, str | None]]:
    """Azure Databricks offers customer-managed keys and Private Link on the Premium plan only.

    Sources: https://learn.microsoft.com/azure/databricks/security/keys/customer-managed-keys
    ("requires the Premium plan"); https://learn.microsoft.com/azure/databricks/security/network/classic/private-link
    (requirements: Premium plan).
    """
    for ws in ix.of_type(WORKSPACE):
        needs = []
        if dig(ws.inputs, "encryption", "entities"):
            needs.append("customer-managed keys")
        if dig(ws.inputs, "parameters", "prepareEncryption", "value"):
            needs.append("prepareEncryption")
        if ws.inputs.get("publicNetworkAccess") == "Disabled":
            needs.append("private link (public network access disabled)")
        if not needs:
            continue
        sku = dig(ws.inputs, "sku", "name")
        yield ws, f"{', '.join(needs)} on a {sku!r} workspace" if known(sku) and sku != "premium" else None


# Sub-resources (group ids) each Private Link service offers.
# Source: https://learn.microsoft.com/azure/private-link/private-endpoint-overview#private-link-resource
PRIVATE_LINK_GROUPS = {
    STORAGE: {"blob", "blob_secondary", "dfs", "dfs_secondary", "file", "queue", "table", "web"},
    VAULT: {"vault"},
    NAMESPACE: {"namespace"},
    SQL_SERVER: {"sqlServer"},
    WORKSPACE: {"databricks_ui_api", "browser_authentication"},
    FUNCTION_APP: {"sites"},
    KUSTO_CLUSTER: {"cluster"},
    MONITOR_SCOPE: {"azuremonitor"},
}
# The private DNS zones each group id registers in (Azure public cloud); `{region}` is the target's location.
# Source: https://learn.microsoft.com/azure/private-link/private-endpoint-dns (Storage, Key Vault, Event Hubs,
# SQL, Databricks; Web Apps: sites; Azure Data Explorer: cluster, with the blob, queue and table zones its
# ingestion storage resolves in; Azure Monitor private link scope: azuremonitor, five zones).
PRIVATE_DNS_ZONES: dict[str, tuple[str, ...]] = {
    "blob": ("privatelink.blob.core.windows.net",),
    "dfs": ("privatelink.dfs.core.windows.net",),
    "queue": ("privatelink.queue.core.windows.net",),
    "table": ("privatelink.table.core.windows.net",),
    "vault": ("privatelink.vaultcore.azure.net",),
    "namespace": ("privatelink.servicebus.windows.net",),
    "sqlServer": ("privatelink.database.windows.net",),
    "databricks_ui_api": ("privatelink.azuredatabricks.net",),
    "browser_authentication": ("privatelink.azuredatabricks.net",),
    "sites": ("privatelink.azurewebsites.net",),
    "cluster": (
        "privatelink.{region}.kusto.windows.net",
        "privatelink.blob.core.windows.net",
        "privatelink.queue.core.windows.net",
        "privatelink.table.core.windows.net",
    ),
    "azuremonitor": (
        "privatelink.monitor.azure.com",
        "privatelink.oms.opinsights.azure.com",
        "privatelink.ods.opinsights.azure.com",
        "privatelink.agentsvc.azure-automation.net",
        "privatelink.blob.core.windows.net",
    ),
}


def expected_zones(ix: PlanIndex, pe: PlannedResource) -> set[str] | None:
    """The zones `pe`'s group ids register in; None when a zone depends on a location the plan does not know."""
    zones: set[str] = set()
    for group in group_ids(pe):
        for zone in PRIVATE_DNS_ZONES.get(group, ()):
            if "{region}" in zone:
                connections = "privateLinkServiceConnections"
                targets = [t for kind in PRIVATE_LINK_GROUPS for t in ix.linked(pe, connections, kind)]
                regions = {str(t.inputs.get("location")).replace(" ", "").lower() for t in targets}
                if len(regions) != 1 or not all(known(t.inputs.get("location")) for t in targets):
                    return None
                zone = zone.format(region=regions.pop())
            zones.add(zone)
    return zones


def group_ids(pe: PlannedResource) -> list[str]:
    return [g for c in pe.inputs.get("privateLinkServiceConnections") or [] for g in c.get("groupIds") or []]


@rule("AT-05", "a private endpoint asks its target for a sub-resource the target offers")
def private_endpoint_group_ids(ix: PlanIndex) -> Iterator[tuple[PlannedResource, str | None]]:
    """Azure refuses a private endpoint whose group id its target's Private Link service does not offer.

    Source: https://learn.microsoft.com/azure/private-link/private-endpoint-overview#private-link-resource
    (the table of resource types and their sub-resources).
    """
    for pe in ix.of_type(PRIVATE_ENDPOINT):
        for target_type, offered in PRIVATE_LINK_GROUPS.items():
            for target in ix.linked(pe, "privateLinkServiceConnections", target_type):
                wrong = [g for g in group_ids(pe) if g not in offered]
                yield pe, f"group ids {wrong} are not offered by {target.name!r} ({sorted(offered)})" if wrong else None


def zone_groups_of(ix: PlanIndex, pe: PlannedResource) -> list[PlannedResource]:
    return [
        g
        for g in ix.of_type(DNS_ZONE_GROUP)
        if pe.urn in g.property_dependencies.get("privateEndpointName", [])
        or (
            known(g.inputs.get("privateEndpointName"))
            and g.inputs.get("privateEndpointName") == pe.inputs.get("privateEndpointName")
        )
    ]


@rule("AT-06", "a private endpoint registers in the DNS zone its sub-resource resolves in")
def private_endpoint_dns_zone(ix: PlanIndex) -> Iterator[tuple[PlannedResource, str | None]]:
    """A record in the wrong private DNS zone is created and never used: clients resolve the
    service's public name through `privatelink.<service zone>` only.

    Source: https://learn.microsoft.com/azure/private-link/private-endpoint-dns (zone per sub-resource).
    """
    for pe in ix.of_type(PRIVATE_ENDPOINT):
        expected = expected_zones(ix, pe)
        if not expected:
            continue
        for group in zone_groups_of(ix, pe):
            zones = ix.linked(group, "privateDnsZoneConfigs", DNS_ZONE)
            names = {str(z.inputs.get("privateZoneName")) for z in zones if known(z.inputs.get("privateZoneName"))}
            wrong = sorted(names - expected)
            yield pe, f"registered in {wrong}, but {group_ids(pe)} resolves in {sorted(expected)}" if wrong else None


@rule("AT-07", "a user-assigned identity for SQL TDE is named the primary identity")
def sql_cmk_primary_identity(ix: PlanIndex) -> Iterator[tuple[PlannedResource, str | None]]:
    """A server that reaches its TDE key with a user-assigned identity must name it as its primary
    user-assigned identity, or Azure refuses the key.

    Source: https://learn.microsoft.com/azure/azure-sql/database/transparent-data-encryption-byok-identity
    ("the primary user-assigned managed identity ... is used to access the key vault").
    """
    for server in ix.of_type(SQL_SERVER):
        uses_cmk = (
            known(server.inputs.get("keyId"))
            or "keyId" in server.property_dependencies
            or any(server.urn in k.property_dependencies.get("serverName", []) for k in ix.of_type(SQL_SERVER_KEY))
        )
        if not uses_cmk or "UserAssigned" not in str(dig(server.inputs, "identity", "type") or ""):
            continue
        primary = server.inputs.get("primaryUserAssignedIdentityId")
        yield (
            server,
            None
            if primary is not None
            else "TDE key through a user-assigned identity without primaryUserAssignedIdentityId",
        )


@rule("AT-08", "Databricks VNet injection: both subnets delegated, each with an NSG")
def databricks_subnets(ix: PlanIndex) -> Iterator[tuple[PlannedResource, str | None]]:
    """VNet injection needs the host and container subnets delegated to Microsoft.Databricks/workspaces
    and associated with a network security group; Azure refuses the workspace otherwise.

    Source: https://learn.microsoft.com/azure/databricks/security/network/classic/vnet-inject
    (virtual network requirements: subnets, delegation, NSG association).
    """
    for ws in ix.of_type(WORKSPACE):
        for subnet in ix.linked(ws, "parameters", SUBNET):
            delegated = any(
                d.get("serviceName") == "Microsoft.Databricks/workspaces"
                for d in subnet.inputs.get("delegations") or []
            )
            if not delegated:
                continue  # the workspace's other subnets (private endpoints) are not injected
            has_nsg = subnet.inputs.get("networkSecurityGroup") is not None
            yield subnet, None if has_nsg else "Databricks subnet without a network security group"


def _lifecycle_rules(ix: PlanIndex) -> Iterator[tuple[PlannedResource, dict[str, Any], list[PlannedResource]]]:
    for policy in ix.of_type(MANAGEMENT_POLICY):
        accounts = ix.linked(policy, "accountName", STORAGE)
        for rule_def in dig(policy.inputs, "policy", "rules") or []:
            if rule_def.get("enabled", True) is not False:
                yield policy, rule_def, accounts


def _actions(rule_def: dict[str, Any]) -> dict[str, Any]:
    actions = dig(rule_def, "definition", "actions") or {}
    return {
        f"{target}.{name}": v for target, acts in actions.items() if isinstance(acts, dict) for name, v in acts.items()
    }


@rule("AT-09", "no archive tier on a zone-redundant account")
def archive_on_zone_redundant(ix: PlanIndex) -> Iterator[tuple[PlannedResource, str | None]]:
    """Blob Storage has no archive tier on ZRS, GZRS and RA-GZRS accounts, so a lifecycle policy that
    archives is refused there.

    Source: https://learn.microsoft.com/azure/storage/blobs/access-tiers-overview ("the archive tier
    isn't supported for ZRS, GZRS, or RA-GZRS accounts").
    """
    for policy, rule_def, accounts in _lifecycle_rules(ix):
        for account in accounts:
            sku = dig(account.inputs, "sku", "name")
            archives = [a for a in _actions(rule_def) if a.endswith("tierToArchive")]
            bad = bool(archives) and sku in ZONE_REDUNDANT_SKUS
            yield policy, f"rule {rule_def.get('name')!r} archives ({archives}) on a {sku} account" if bad else None


def _delta_roots(ix: PlanIndex) -> list[str]:
    """'container/path/' of every Unity Catalog external location (Delta tables, stream checkpoints)."""
    roots = []
    for location in ix.of_type(EXTERNAL_LOCATION):
        url = str(location.inputs.get("url") or "")
        if url.startswith("abfss://") and "@" in url:
            container, _, rest = url[len("abfss://") :].partition("@")
            path = rest.partition("/")[2]
            roots.append(f"{container}/{path}".rstrip("/") + "/")
    return roots


@rule("AT-10", "blob lifecycle never touches a Delta table or a stream checkpoint")
def lifecycle_over_delta(ix: PlanIndex) -> Iterator[tuple[PlannedResource, str | None]]:
    """A lifecycle rule that deletes or re-tiers files under a Delta table's root or a checkpoint breaks
    them: the Delta log still lists the files, and a stream's checkpoint must stay readable. Delta
    retention is a Delta operation (VACUUM), not a blob policy.

    Source: https://learn.microsoft.com/azure/databricks/optimizations/archive-delta ("without archival
    support, operations against Delta tables might break because data files or transaction log files
    have moved to archived locations"); https://learn.microsoft.com/azure/databricks/delta/vacuum.
    """
    roots = _delta_roots(ix)
    for policy, rule_def, _accounts in _lifecycle_rules(ix):
        prefixes = dig(rule_def, "definition", "filters", "prefixMatch") or [""]
        hit = sorted({r for p in prefixes for r in roots if r.startswith(str(p)) or str(p).startswith(r)})
        yield policy, f"rule {rule_def.get('name')!r} ({prefixes}) covers Delta/checkpoint roots {hit}" if hit else None


@rule("AT-11", "a SQL server's TDE key is registered once")
def sql_key_registered_once(ix: PlanIndex) -> Iterator[tuple[PlannedResource, str | None]]:
    """A server created with `keyId` already holds that key as a server key and protector; a separate
    ServerKey for it then fails, because azure-native refuses to create a resource that exists.

    Sources: pulumi/pulumi-azure-native provider/pkg/provider/provider.go (create checks the resource
    does not exist); https://learn.microsoft.com/rest/api/sql/servers/create-or-update (keyId: "the CMK
    URI of the key to use for encryption").
    """
    for server in ix.of_type(SQL_SERVER):
        server_keys = [k for k in ix.of_type(SQL_SERVER_KEY) if server in ix.linked(k, "serverName", SQL_SERVER)]
        has_key_id = known(server.inputs.get("keyId")) or bool(server.property_dependencies.get("keyId"))
        if not server_keys and not has_key_id:
            continue
        bad = has_key_id and bool(server_keys)
        yield server, f"keyId and ServerKey {[k.name for k in server_keys]} both register the key" if bad else None


SLEEP = "time:index/sleep:Sleep"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"


@rule("AT-12", "CMK consumers wait for their key grant to propagate")
def cmk_waits_for_rbac(ix: PlanIndex) -> Iterator[tuple[PlannedResource, str | None]]:
    """A Key Vault role assignment takes effect up to 10 minutes after it is created, so a service
    configured with its key right after the grant can fail with "key not accessible".

    Source: https://learn.microsoft.com/azure/key-vault/general/rbac-guide (known limits and
    performance: "it will take up to 10 minutes (600 seconds) after role assignments is changed for
    role to be applied").
    """
    grants = [
        ra
        for ra in ix.of_type(ROLE_ASSIGNMENT)
        if str(ra.inputs.get("roleDefinitionId", "")).endswith(CRYPTO_SERVICE_ENCRYPTION_USER)
    ]
    sleeps = ix.of_type(SLEEP)
    for grant in grants:
        keys = ix.linked(grant, "scope", KEY)
        key_urns = {k.urn for k in keys}
        key_names = {str(k.inputs.get("keyName")) for k in keys}
        for consumer in ix.plan.resources:
            if grant.urn not in consumer.dependencies or consumer.type in (SLEEP, ROLE_ASSIGNMENT):
                continue
            uses_key = any(key_urns & set(urns) for urns in consumer.property_dependencies.values()) or bool(
                key_names & set(_strings(consumer.inputs))
            )
            if not uses_key:
                continue  # depends on the grant for ordering only (e.g. through a component's readiness)
            waited = any(s.urn in consumer.dependencies and grant.urn in s.dependencies for s in sleeps)
            yield (
                consumer,
                None if waited else f"uses its key right after grant {grant.name!r}, without a propagation wait",
            )


DATABRICKS_PROVIDER = "pulumi:providers:databricks"
ACCOUNTS_HOST = "https://accounts.azuredatabricks.net"
METASTORE_ASSIGNMENT = "databricks:index/metastoreAssignment:MetastoreAssignment"
PERMISSION_ASSIGNMENT = "databricks:index/mwsPermissionAssignment:MwsPermissionAssignment"
RULE_SET = "databricks:index/accessControlRuleSet:AccessControlRuleSet"
SERVICE_PRINCIPAL = "databricks:index/servicePrincipal:ServicePrincipal"
SP_USER_ROLE = "roles/servicePrincipal.user"
# Objects made through the account API, which a workspace admin role does not gate.
ACCOUNT_LEVEL = (METASTORE_ASSIGNMENT, PERMISSION_ASSIGNMENT, RULE_SET)


def _is_account_provider(provider: PlannedResource) -> bool:
    return "azureWorkspaceResourceId" not in provider.inputs and (
        provider.inputs.get("host") == ACCOUNTS_HOST or "accountId" in provider.inputs
    )


def _admins_of(ix: PlanIndex, workspace: PlannedResource) -> list[PlannedResource]:
    return [
        a
        for a in ix.of_type(PERMISSION_ASSIGNMENT)
        if "ADMIN" in (a.inputs.get("permissions") or []) and workspace in ix.linked(a, "workspaceId", WORKSPACE)
    ]


@rule("AT-13", "workspace calls under github-oidc-azure wait for the deployer's workspace admin")
def oidc_deployer_is_admin_first(ix: PlanIndex) -> Iterator[tuple[PlannedResource, str | None]]:
    """With `github-oidc-azure` the Databricks provider sends only the Entra token of the deploying
    service principal, without the X-Databricks-Azure-SP-Management-Token header that makes a
    Contributor on the workspace its admin on first login; a principal that is not yet a workspace
    member is refused on its first workspace-level call. It must be made workspace admin first, through
    the account (an ADMIN permission assignment).

    Sources: github.com/databricks/databricks-sdk-go config/auth_azure_github_oidc.go (no management token)
    against config/auth_azure_client_secret.go, auth_azure_msi.go and auth_azure_cli.go (which send it);
    https://learn.microsoft.com/azure/databricks/dev-tools/auth/azure-sp (a service principal that is not a
    workspace user needs the management token to be added on first login).
    """
    for provider in ix.of_type(DATABRICKS_PROVIDER):
        if provider.inputs.get("authType") != "github-oidc-azure" or _is_account_provider(provider):
            continue
        workspaces = ix.linked(provider, "azureWorkspaceResourceId", WORKSPACE)
        admins = {a.urn for ws in workspaces for a in _admins_of(ix, ws)}
        for r in ix.plan.resources:
            if r.type in ACCOUNT_LEVEL or ix.provider_of(r) is not provider:
                continue
            waits = bool(admins & ix.ancestors(r))
            yield r, None if waits else "workspace-level call before any ADMIN permission assignment of the deployer"


@rule("AT-14", "a principal is assigned to a workspace only after its metastore assignment")
def permission_after_metastore(ix: PlanIndex) -> Iterator[tuple[PlannedResource, str | None]]:
    """Account admins can assign principals only to identity-federated workspaces, and a workspace
    becomes identity-federated when it is assigned a Unity Catalog metastore. Where the plan assigns the
    metastore itself, every permission assignment on that workspace must wait for it (where Databricks
    assigned it at workspace creation, the plan has no assignment and there is nothing to wait for).

    Source: https://learn.microsoft.com/azure/databricks/data-governance/unity-catalog/enable-workspaces
    ("Identity federation is enabled for the workspace ... This includes assigning users to workspaces");
    databricks/terraform-databricks-sra azure/tf/modules/workspace/main.tf (3f68f36).
    """
    for assignment in ix.of_type(PERMISSION_ASSIGNMENT):
        workspaces = ix.linked(assignment, "workspaceId", WORKSPACE)
        metastores = [
            m.urn
            for m in ix.of_type(METASTORE_ASSIGNMENT)
            if any(ws in workspaces for ws in ix.linked(m, "workspaceId", WORKSPACE))
        ]
        waits = not metastores or bool(set(metastores) & ix.ancestors(assignment))
        yield assignment, None if waits else f"assigned before the workspace's metastore assignment {metastores}"


@rule("AT-15", "permission assignments go through an account-level provider")
def permission_through_account(ix: PlanIndex) -> Iterator[tuple[PlannedResource, str | None]]:
    """`databricks_mws_permission_assignment` is an account API call: the provider must be configured
    with the account (`account_id`, the accounts host); through a workspace provider it fails.

    Source: databricks/terraform-provider-databricks docs/resources/mws_permission_assignment.md ("These
    resources are invoked in the account context. Provider must have `account_id` attribute configured");
    databricks/terraform-provider-databricks#1793 and #1803 (the error through a workspace-mode provider).
    """
    for assignment in ix.of_type(PERMISSION_ASSIGNMENT):
        provider = ix.provider_of(assignment)
        ok = provider is not None and _is_account_provider(provider) and "accountId" in provider.inputs
        yield assignment, None if ok else "made through a provider that has no account (account_id, accounts host)"


@rule("AT-16", "run_as a service principal only after the deployer holds its User role")
def run_as_after_user_role(ix: PlanIndex) -> Iterator[tuple[PlannedResource, str | None]]:
    """Setting a job's (or an alert's) `run_as` to a service principal requires the caller to hold
    `roles/servicePrincipal.user` on it; with RestrictWorkspaceAdmins a workspace admin needs it too.
    The rule set that grants it must exist before the object that names the principal.

    Sources: databricks/terraform-provider-databricks docs/resources/job.md (`run_as.service_principal_name`:
    "Setting this field requires the `servicePrincipal/user` role"); docs/resources/access_control_rule_set.md;
    https://learn.microsoft.com/azure/databricks/admin/workspace-settings/restrict-workspace-admins.
    """
    rule_sets = [
        rs
        for rs in ix.of_type(RULE_SET)
        if any(g.get("role") == SP_USER_ROLE for g in rs.inputs.get("grantRules") or [])
    ]
    for r in ix.plan.resources:
        if not dig(r.inputs, "runAs", "servicePrincipalName"):
            continue
        principals = ix.linked(r, "runAs", SERVICE_PRINCIPAL)
        if not principals:
            continue  # a principal this plan does not create: not ours to check
        granting = {
            rs.urn for rs in rule_sets if any(p in ix.linked(rs, "name", SERVICE_PRINCIPAL) for p in principals)
        }
        waits = bool(granting & ix.ancestors(r))
        yield r, None if waits else f"runs as {principals[0].name!r} before a rule set grants {SP_USER_ROLE} on it"


CONFLUENT_NETWORK = "confluentcloud:index/network:Network"
KAFKA_TOPIC = "confluentcloud:index/kafkaTopic:KafkaTopic"
VNET_LINK = "azure-native:privatedns:VirtualNetworkLink"


@rule("AT-17", "Confluent topics wait for every VNet link of the Confluent zone")
def topics_after_zone_links(ix: PlanIndex) -> Iterator[tuple[PlannedResource, str | None]]:
    """A private cluster's REST endpoint (which creates topics) resolves only through the private DNS
    zone named after the Confluent network's DNS domain, and a VNet resolves a private zone only once
    the zone is linked to it: a topic created before a link fails from that VNet, and on destroy a link
    removed first strands the topic deletes.

    Sources: https://learn.microsoft.com/azure/dns/private-dns-virtual-network-links (resolution needs a
    link); confluentinc/terraform-provider-confluent
    examples/configurations/dedicated-privatelink-azure-kafka-acls/main.tf (the key the topics use
    depends_on the zone's VNet link, so that "Kafka connectivity through Azure PrivateLink is setup").
    """
    zones = [
        z
        for z in ix.of_type(DNS_ZONE)
        if any(
            ix.by_urn[u].type == CONFLUENT_NETWORK
            for u in z.property_dependencies.get("privateZoneName", [])
            if u in ix.by_urn
        )
    ]
    if not zones:
        return  # a public cluster: no private zone to wait for
    links = {
        link.urn
        for link in ix.of_type(VNET_LINK)
        if any(z in zones for z in ix.linked(link, "privateZoneName", DNS_ZONE))
    }
    for topic in ix.of_type(KAFKA_TOPIC):
        missing = links - ix.ancestors(topic)
        problem = f"created before VNet link(s) {sorted(u.rsplit('::', 1)[-1] for u in missing)}" if missing else None
        yield topic, problem if links else "the Confluent zone has no VNet link at all"


JOB = "databricks:index/job:Job"


@rule("AT-18", "no task retry settings a continuous job never uses")
def continuous_job_retries(ix: PlanIndex) -> Iterator[tuple[PlannedResource, str | None]]:
    """A continuous job takes no task retry policy: Databricks restarts a failed run with exponential
    back-off instead. Its `task_retry_mode: ON_FAILURE` retries a failed task only while another task of
    the run is still on its first attempt, so in a one-task job it never retries, and the task's
    `max_retries` is never read.

    Sources: https://learn.microsoft.com/azure/databricks/jobs/continuous ("You cannot use retry policies
    with a continuous job. Instead, continuous jobs use exponential backoff"); databricks/
    terraform-provider-databricks docs/resources/job.md (continuous `task_retry_mode`: "ON_FAILURE: Retry a
    failed task if at least one other task in the job is still running its first attempt").
    """
    for job in ix.of_type(JOB):
        continuous = job.inputs.get("continuous")
        if not isinstance(continuous, dict):
            continue
        tasks = job.inputs.get("tasks") or []
        mode = continuous.get("taskRetryMode") or "NEVER"
        retrying = [t.get("taskKey") for t in tasks if (t.get("maxRetries") or 0) != 0]
        problems = []
        if mode == "ON_FAILURE" and len(tasks) < 2:
            problems.append("task_retry_mode ON_FAILURE on a one-task job never retries")
        if retrying and mode != "ON_FAILURE":
            problems.append(f"max_retries on tasks {retrying} is never read (task_retry_mode {mode})")
        yield job, "; ".join(problems) or None


ACCESS_CONNECTOR = "azure-native:databricks:AccessConnector"
STORAGE_CREDENTIAL = "databricks:index/storageCredential:StorageCredential"


def _account_of(url: str) -> str | None:
    """`abfss://<container>@<account>.dfs.core.windows.net/...` -> `<account>`."""
    if not url.startswith("abfss://") or "@" not in url:
        return None
    return url.split("@", 1)[1].split(".", 1)[0]


@rule("AT-19", "Unity Catalog reaches a private lake through a resource instance rule for its connector")
def connector_through_lake_firewall(ix: PlanIndex) -> Iterator[tuple[PlannedResource, str | None]]:
    """With public network access disabled on the storage account, Unity Catalog's control plane reaches
    the container roots of its external locations as the workspace's access connector only through a
    resource instance rule naming that connector; without one, creating the locations fails validation.

    Sources: databricks/terraform-databricks-sra azure/tf/modules/catalog/storage_account.tf
    (`public_network_access_enabled = false` with `private_link_access { endpoint_resource_id = <access
    connector> }`); https://learn.microsoft.com/azure/storage/common/storage-network-security-resource-instances.
    """
    credentials = {str(c.inputs.get("name")): c for c in ix.of_type(STORAGE_CREDENTIAL) if known(c.inputs.get("name"))}
    accounts = {str(_azure_name(a)): a for a in ix.of_type(STORAGE) if _azure_name(a)}
    for location in ix.of_type(EXTERNAL_LOCATION):
        account = accounts.get(_account_of(str(location.inputs.get("url") or "")) or "")
        credential = credentials.get(str(location.inputs.get("credentialName")))
        if account is None or credential is None or account.inputs.get("publicNetworkAccess") != "Disabled":
            continue
        connectors = ix.linked(credential, "azureManagedIdentity", ACCESS_CONNECTOR)
        rules = dig(account.inputs, "networkRuleSet", "resourceAccessRules") or []
        allowed = set(account.property_dependencies.get("networkRuleSet", [])) | {
            str(r.get("resourceId")) for r in rules if isinstance(r, dict)
        }
        missing = [c.name for c in connectors if c.urn not in allowed and (c.id or "") not in allowed]
        problem = None
        if not connectors:
            problem = f"storage credential {credential.name!r} names no access connector the lake could let in"
        elif missing:
            problem = f"lake {account.name!r} denies public access and has no resource instance rule for {missing}"
        yield location, problem


# ----------------------------------------------------------------------------- evaluation


def evaluate(plan: Plan, rules: Iterable[Rule] | None = None, ix: PlanIndex | None = None) -> ApplyReport:
    ix = ix or PlanIndex(plan)
    report = ApplyReport()
    for r in RULES if rules is None else rules:
        checked = 0
        for resource, problem in r.check(ix):
            checked += 1
            if problem:
                report.findings.append(Finding(r.id, resource.urn, resource.name, resource.type, problem))
        report.checked[r.id] = checked
    return report


def print_report(report: ApplyReport, out: TextIO, rules: Iterable[Rule] | None = None) -> None:
    """Print the verdicts beside the policy pack's: errors first, then what each rule checked."""
    rules = list(RULES if rules is None else rules)
    titles = {r.id: r.title for r in rules}
    total = sum(report.checked.values())
    out.write(
        f"\nApply-time rules (offline/apply_rules.py): {len(rules)} rules, {total} checks, "
        f"{len(report.findings)} error(s)\n"
    )
    for f in report.findings:
        out.write(f"  [error] {f.rule} {titles.get(f.rule, '')}  {f.resource_type}  {f.resource}\n      {f.message}\n")
    idle = [rid for rid, n in report.checked.items() if n == 0]
    if idle:
        out.write(f"  nothing to check in this stack: {', '.join(idle)}\n")
