"""Access paths: every promised data flow, declared once and resolved in each stack's plan.

A flow works only when its caller has a principal, that principal holds the
grant (role, ACL, entitlement) that allows the call, and the caller's network
reaches the target (a private endpoint, and its private DNS zone linked to the
network the caller runs in, or the trusted-service path a first-party service
uses). The mock-engine tests prove that properties are set; this module proves,
for each stack, that the three pieces exist and belong together. A flow that
applies to a stack and misses any piece fails the preview (exit 3).

`FLOWS` is the one declaration. The README's architecture diagram is checked
against it (tests/test_access_paths.py): each flow names the diagram edge that
draws it, and every data edge in the diagram must be a declared flow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from offline.apply_rules import (
    DNS_ZONE,
    FUNCTION_APP,
    KEY,
    NAMESPACE,
    SQL_SERVER,
    SQL_SERVER_KEY,
    STORAGE,
    SUBNET,
    VAULT,
    WORKSPACE,
    PlanIndex,
    dig,
    group_ids,
    known,
    zone_groups_of,
)
from offline.plan import Plan, PlannedResource

REPO_ROOT = Path(__file__).resolve().parent.parent
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
VNET = "azure-native:network:VirtualNetwork"
VNET_LINK = "azure-native:privatedns:VirtualNetworkLink"
PRIVATE_ENDPOINT = "azure-native:network:PrivateEndpoint"
HUB = "azure-native:eventhub:EventHub"
CONTAINER = "azure-native:storage:BlobContainer"
DBX_CREDENTIAL = "databricks:index/credential:Credential"
DBX_STORAGE_CREDENTIAL = "databricks:index/storageCredential:StorageCredential"
DBX_EXTERNAL_LOCATION = "databricks:index/externalLocation:ExternalLocation"
DBX_SECRET_SCOPE = "databricks:index/secretScope:SecretScope"
DBX_JOB = "databricks:index/job:Job"
DBX_ALERT = "databricks:index/alertV2:AlertV2"
DBX_SERVICE_PRINCIPAL = "databricks:index/servicePrincipal:ServicePrincipal"
DBX_ENTITLEMENTS = "databricks:index/entitlements:Entitlements"
DBX_WAREHOUSE = "databricks:index/sqlEndpoint:SqlEndpoint"
DBX_PERMISSIONS = "databricks:index/permissions:Permissions"
DBX_GRANTS = "databricks:index/grants:Grants"
DBX_SCHEMA = "databricks:index/schema:Schema"
CC_SERVICE_ACCOUNT = "confluentcloud:index/serviceAccount:ServiceAccount"
CC_ROLE_BINDING = "confluentcloud:index/roleBinding:RoleBinding"
CC_CLUSTER = "confluentcloud:index/kafkaCluster:KafkaCluster"
CC_TOPIC = "confluentcloud:index/kafkaTopic:KafkaTopic"
CC_API_KEY = "confluentcloud:index/apiKey:ApiKey"
DBX_ADMIN_ASSIGNMENT = "databricks:index/mwsPermissionAssignment:MwsPermissionAssignment"
PEERING = "azure-native:network:VirtualNetworkPeering"
RECORD_SET = "azure-native:privatedns:PrivateRecordSet"
DEPLOY_COMMAND = "command:local:Command"
KUSTO_MANAGED_ENDPOINT = "azure-native:kusto:ManagedPrivateEndpoint"
KUSTO_EVENTHUB_CONNECTION = "azure-native:kusto:EventHubDataConnection"
SECRET = "azure-native:keyvault:Secret"

# Built-in role GUIDs (components/roles.py names them; the plan carries only the GUID).
EVENT_HUBS_DATA_SENDER = "2b629674-e913-4c01-ae53-ef4638d8f975"
EVENT_HUBS_DATA_RECEIVER = "a638d3c7-ab3a-418d-83e6-5f17a39d4fde"
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
STORAGE_BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"


@dataclass
class Resolution:
    """What a flow resolved to in one plan: its principal, grant and network path, or what is missing."""

    principal: list[str] = field(default_factory=list)
    grant: list[str] = field(default_factory=list)
    network: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def need(self, part: str, found: list[str], missing: str) -> None:
        getattr(self, part).extend(found)
        if not found:
            self.problems.append(f"no {part}: {missing}")


@dataclass(frozen=True)
class Flow:
    id: str
    caller: str
    target: str
    # The README diagram edges that draw the flow (node ids of the mermaid chart), in data direction.
    diagram_edges: tuple[tuple[str, str], ...]
    applies: Callable[[PlanIndex], bool]
    resolve: Callable[[PlanIndex], Resolution]


# ----------------------------------------------------------------------------- shared resolvers


def role_grants(ix: PlanIndex, role_guid: str, scopes: Iterable[PlannedResource]) -> list[PlannedResource]:
    """Role assignments of `role_guid` at one of `scopes` (linked by dependency, id or name)."""
    urns = {s.urn for s in scopes}
    return [
        ra
        for ra in ix.of_type(ROLE_ASSIGNMENT)
        if str(ra.inputs.get("roleDefinitionId", "")).endswith(role_guid)
        and ({r.urn for t in SCOPE_TYPES for r in ix.linked(ra, "scope", t)} & urns)
    ]


def held_by(
    ix: PlanIndex, grants: Iterable[PlannedResource], identities: list[PlannedResource]
) -> list[PlannedResource]:
    """The grants whose principal is one of `identities`: a flow's grant must be its caller's, not anyone's."""
    urns = {i.urn for i in identities}
    return [g for g in grants if {i.urn for i in ix.linked(g, "principalId", IDENTITY)} & urns]


def named_identity(ix: PlanIndex, key: str) -> list[PlannedResource]:
    """The platform identity for one job (components/identity.py names them `<component>-<key>`)."""
    return [i for i in ix.of_type(IDENTITY) if i.name.endswith(f"-{key}")]


PRIVATE_DNS_ZONES_TYPES = (STORAGE, VAULT, NAMESPACE, SQL_SERVER, WORKSPACE)
SCOPE_TYPES = (*PRIVATE_DNS_ZONES_TYPES, HUB, CONTAINER, KEY, SECRET)


def principal_of(ix: PlanIndex, ra: PlannedResource) -> str:
    identities = ix.linked(ra, "principalId", IDENTITY) or ix.linked(ra, "principalId", WORKSPACE)
    if identities:
        return identities[0].name
    principal = ra.inputs.get("principalId")
    return f"principal {principal}" if known(principal) else "(unknown principal)"


def _grant_text(ix: PlanIndex, ra: PlannedResource, role: str) -> str:
    scopes = [r.name for t in SCOPE_TYPES for r in ix.linked(ra, "scope", t)]
    return f"{role} on {', '.join(scopes)} ({ra.name})"


def caller_vnets_databricks(ix: PlanIndex) -> list[PlannedResource]:
    """Where classic Databricks compute runs: the VNet the workspace is injected into."""
    return [v for ws in ix.of_type(WORKSPACE) for v in ix.linked(ws, "parameters", VNET)]


def platform_vnets(ix: PlanIndex) -> list[PlannedResource]:
    return ix.of_type(VNET)


def endpoints_to(ix: PlanIndex, target: PlannedResource, group: str) -> list[PlannedResource]:
    """The private endpoints to `target`'s sub-resource `group`."""
    return [
        pe
        for pe in ix.of_type(PRIVATE_ENDPOINT)
        if group in group_ids(pe) and target in ix.linked(pe, "privateLinkServiceConnections", target.type)
    ]


def private_path(ix: PlanIndex, target: PlannedResource, group: str, vnets: list[PlannedResource]) -> list[str]:
    """Each private endpoint to `target`'s `group` whose DNS zone is linked to one of `vnets`."""
    paths = []
    vnet_urns = {v.urn for v in vnets}
    for pe in endpoints_to(ix, target, group):
        for zone in endpoint_zones(ix, pe):
            linked = [
                link
                for link in ix.of_type(VNET_LINK)
                if zone in ix.linked(link, "privateZoneName", DNS_ZONE)
                and {v.urn for v in ix.linked(link, "virtualNetwork", VNET)} & vnet_urns
            ]
            if linked:
                paths.append(
                    f"{pe.name} -> {zone.inputs.get('privateZoneName')} linked to {', '.join(v.name for v in vnets)}"
                )
    return paths


def endpoint_zones(ix: PlanIndex, pe: PlannedResource) -> list[PlannedResource]:
    """The private DNS zones `pe` registers in: its zone groups' zones, and (an endpoint to a partner's
    Private Link service, Confluent) the zones of the A records that carry its address."""
    zones = [z for g in zone_groups_of(ix, pe) for z in ix.linked(g, "privateDnsZoneConfigs", DNS_ZONE)]
    zones += [
        z
        for rs in ix.of_type(RECORD_SET)
        if any(pe.urn in deps for deps in rs.property_dependencies.values())
        for z in ix.linked(rs, "privateZoneName", DNS_ZONE)
    ]
    return list({z.urn: z for z in zones}.values())


def trusted_service_path(vault: PlannedResource) -> list[str]:
    """First-party services (CMK unwrap, the Databricks secret scope) reach a firewalled vault as trusted services."""
    bypass = str(dig(vault.inputs, "properties", "networkAcls", "bypass") or "")
    return (
        [f"{vault.name}: trusted-service bypass (networkAcls.bypass AzureServices)"]
        if "AzureServices" in bypass
        else []
    )


# ----------------------------------------------------------------------------- flows


def _eventhubs(
    ix: PlanIndex, role: str, role_name: str, caller: list[PlannedResource], vnets: list[PlannedResource]
) -> Resolution:
    res = Resolution()
    res.need("principal", [i.name for i in caller], "the caller's identity is not in the plan")
    for ns in ix.of_type(NAMESPACE):
        hubs = [h for h in ix.of_type(HUB) if ns in ix.linked(h, "namespaceName", NAMESPACE)]
        grants = held_by(ix, role_grants(ix, role, [ns, *hubs]), caller)
        res.need(
            "grant",
            [_grant_text(ix, g, role_name) for g in grants],
            f"{', '.join(i.name for i in caller) or 'the caller'} holds no {role_name} on {ns.name} or its hubs",
        )
        res.need(
            "network", private_path(ix, ns, "namespace", vnets), f"no private endpoint to {ns.name} resolvable there"
        )
    return res


def producer_to_event_hubs(ix: PlanIndex) -> Resolution:
    """The producer's identity sends to the trades hub (Event Hubs Data Sender); it runs in the platform VNet."""
    return _eventhubs(
        ix, EVENT_HUBS_DATA_SENDER, "Azure Event Hubs Data Sender", named_identity(ix, "producer"), platform_vnets(ix)
    )


def bronze_from_event_hubs(ix: PlanIndex) -> Resolution:
    """The bronze job reads through the Unity Catalog service credential of the processor identity."""
    credentials = [c for c in ix.of_type(DBX_CREDENTIAL) if c.inputs.get("purpose") == "SERVICE"]
    caller = [i for c in credentials for i in ix.linked(c, "azureManagedIdentity", IDENTITY)]
    res = _eventhubs(
        ix, EVENT_HUBS_DATA_RECEIVER, "Azure Event Hubs Data Receiver", caller, caller_vnets_databricks(ix)
    )
    res.need("grant", [f"service credential {c.name}" for c in credentials], "no Unity Catalog service credential")
    return res


def kusto_from_event_hubs(ix: PlanIndex) -> Resolution:
    """The hot path's data connection reads the trades hub as the identity it names (Data Receiver), through
    the cluster's managed private endpoint to the namespace (the namespace refuses public traffic).

    Sources: https://learn.microsoft.com/azure/data-explorer/ingest-data-event-hub-overview (managed identity
    authentication: the identity needs Azure Event Hubs Data Receiver);
    https://learn.microsoft.com/azure/data-explorer/security-network-managed-private-endpoint-create (managed
    private endpoints to an Event Hubs namespace, group id "namespace").
    """
    res = Resolution()
    for connection in ix.of_type(KUSTO_EVENTHUB_CONNECTION):
        caller = ix.linked(connection, "managedIdentityResourceId", IDENTITY)
        res.need("principal", [i.name for i in caller], f"{connection.name} reads as no identity of this stack")
        hubs = ix.linked(connection, "eventHubResourceId", HUB)
        namespaces = [ns for h in hubs for ns in ix.linked(h, "namespaceName", NAMESPACE)]
        grants = held_by(ix, role_grants(ix, EVENT_HUBS_DATA_RECEIVER, [*hubs, *namespaces]), caller)
        res.need(
            "grant",
            [_grant_text(ix, g, "Azure Event Hubs Data Receiver") for g in grants],
            f"{connection.name}'s identity holds no Azure Event Hubs Data Receiver on its hub",
        )
        endpoints = [
            f"{mpe.name} (managed private endpoint, group namespace)"
            for mpe in ix.of_type(KUSTO_MANAGED_ENDPOINT)
            if mpe.inputs.get("groupId") == "namespace"
            and {n.urn for n in namespaces} & {n.urn for n in ix.linked(mpe, "privateLinkResourceId", NAMESPACE)}
        ]
        res.need("network", endpoints, f"no managed private endpoint from the cluster to {connection.name}'s namespace")
    return res


def _function_vnets(ix: PlanIndex, app: PlannedResource) -> list[PlannedResource]:
    """The VNet a function app's outbound calls leave from: its integration subnet's."""
    return [
        v for sn in ix.linked(app, "virtualNetworkSubnetId", SUBNET) for v in ix.linked(sn, "virtualNetworkName", VNET)
    ]


def poller_to_key_vault(ix: PlanIndex) -> Resolution:
    """The poller's app settings resolve Key Vault references as the identity `keyVaultReferenceIdentity`
    names (Key Vault Secrets User on the secret), from its integration VNet through the vault's private endpoint.

    Source: https://learn.microsoft.com/azure/app-service/app-service-key-vault-references (references use
    the system-assigned identity unless keyVaultReferenceIdentity names a user-assigned one; a
    network-restricted vault must accept traffic from the app's virtual network, not its outbound IPs).
    """
    res = Resolution()
    for app in ix.of_type(FUNCTION_APP):
        caller = ix.linked(app, "keyVaultReferenceIdentity", IDENTITY)
        res.need("principal", [i.name for i in caller], f"{app.name} sets no keyVaultReferenceIdentity of this stack")
        for vault in ix.of_type(VAULT):
            secrets = [sc for sc in ix.of_type(SECRET) if vault in ix.linked(sc, "vaultName", VAULT)]
            grants = held_by(ix, role_grants(ix, KEY_VAULT_SECRETS_USER, [vault, *secrets]), caller)
            res.need(
                "grant",
                [_grant_text(ix, g, "Key Vault Secrets User") for g in grants],
                f"{app.name}'s reference identity may read no secret of {vault.name}",
            )
            res.need(
                "network",
                private_path(ix, vault, "vault", _function_vnets(ix, app)),
                f"no vault endpoint to {vault.name} resolvable from {app.name}'s integration VNet",
            )
    return res


def poller_to_host_storage(ix: PlanIndex) -> Resolution:
    """The Functions host reaches its storage with the app's identity (Storage Blob Data Owner), over the
    account's blob private endpoint from the integration VNet (identity-based host storage, no keys).

    Source: https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity
    (Storage Blob Data Owner for the host's blob connection).
    """
    res = Resolution()
    for app in ix.of_type(FUNCTION_APP):
        caller = ix.linked(app, "identity", IDENTITY)
        res.need("principal", [i.name for i in caller], f"{app.name} runs as no identity of this stack")
        # AzureWebJobsStorage__accountName and the deployment container name the host's account.
        accounts = {a.urn: a for prop in ("siteConfig", "functionAppConfig") for a in ix.linked(app, prop, STORAGE)}
        if not accounts:
            res.problems.append(f"no network: {app.name} names no host storage account of this stack")
        for account in accounts.values():
            grants = held_by(ix, role_grants(ix, STORAGE_BLOB_DATA_OWNER, [account]), caller)
            res.need(
                "grant",
                [_grant_text(ix, g, "Storage Blob Data Owner") for g in grants],
                f"{app.name}'s identity is no Storage Blob Data Owner on {account.name}",
            )
            res.need(
                "network",
                private_path(ix, account, "blob", _function_vnets(ix, app)),
                f"no blob endpoint to {account.name} resolvable from {app.name}'s integration VNet",
            )
    return res


def _confluent(ix: PlanIndex, account_key: str, role: str, vnets: list[PlannedResource]) -> Resolution:
    res = Resolution()
    accounts = [sa for sa in ix.of_type(CC_SERVICE_ACCOUNT) if account_key in sa.name]
    res.need("principal", [sa.name for sa in accounts], f"no {account_key} service account")
    bindings = [
        rb
        for rb in ix.of_type(CC_ROLE_BINDING)
        if rb.inputs.get("roleName") == role
        and {a.urn for a in accounts} & set(rb.property_dependencies.get("principal", []))
    ]
    res.need("grant", [f"{role} ({rb.name})" for rb in bindings], f"no {role} role binding for it")
    vnet_urns = {v.urn for v in vnets}
    links = [
        link.name
        for link in ix.of_type(VNET_LINK)
        if "confluent" in link.name and {v.urn for v in ix.linked(link, "virtualNetwork", VNET)} & vnet_urns
    ]
    endpoints = [pe.name for pe in ix.of_type(PRIVATE_ENDPOINT) if "confluent" in pe.name]
    res.need(
        "network",
        [f"{', '.join(endpoints)} with zone link {z}" for z in links] if endpoints else [],
        "no Confluent private endpoint with its zone linked to the caller's VNet",
    )
    return res


def producer_to_confluent(ix: PlanIndex) -> Resolution:
    """The producer writes the trades topic as its service account (API key in Key Vault), over Private Link."""
    return _confluent(ix, "producer", "DeveloperWrite", platform_vnets(ix))


def bronze_from_confluent(ix: PlanIndex) -> Resolution:
    """The bronze job reads the trades topic as the processor service account, over Confluent Private Link."""
    return _confluent(ix, "processor", "DeveloperRead", caller_vnets_databricks(ix))


def jobs_to_lake(ix: PlanIndex) -> Resolution:
    """The jobs read and write the medallion locations as the access connector's identity (Unity Catalog)."""
    res = Resolution()
    for account in ix.of_type(STORAGE):
        if account.inputs.get("isHnsEnabled") is not True:
            continue
        grants = role_grants(ix, STORAGE_BLOB_DATA_CONTRIBUTOR, [account])
        res.need("principal", sorted({principal_of(ix, g) for g in grants}), f"nobody may write {account.name}")
        res.grant.extend(_grant_text(ix, g, "Storage Blob Data Contributor") for g in grants)
        locations = [loc.name for loc in ix.of_type(DBX_EXTERNAL_LOCATION)]
        credentials = [c.name for c in ix.of_type(DBX_STORAGE_CREDENTIAL)]
        res.need("grant", [f"storage credential {c}" for c in credentials], "no Unity Catalog storage credential")
        res.need("grant", [f"{len(locations)} external locations"] if locations else [], "no external location")
        res.need(
            "network",
            private_path(ix, account, "dfs", caller_vnets_databricks(ix)),
            f"no dfs endpoint to {account.name} resolvable from the Databricks VNet",
        )
    return res


def gold_to_sql(ix: PlanIndex) -> Resolution:
    """The gold job writes Azure SQL as the processor identity, a contained user (runbook script)."""
    res = Resolution()
    writer = ix.plan.outputs.get("sqlGoldWriter")
    script = REPO_ROOT / "streaming_jobs" / "serving" / "create_job_user.sql"
    res.need(
        "principal",
        [f"sqlGoldWriter {writer.get('name')}"] if isinstance(writer, dict) else [],
        "no sqlGoldWriter output",
    )
    res.need(
        "grant",
        ["contained user from streaming_jobs/serving/create_job_user.sql (README: After pulumi up)"]
        if script.exists()
        else [],
        "the contained-user script is missing",
    )
    for server in ix.of_type(SQL_SERVER):
        res.need(
            "network",
            private_path(ix, server, "sqlServer", caller_vnets_databricks(ix)),
            f"no sqlServer endpoint to {server.name} resolvable from the Databricks VNet",
        )
    return res


def power_bi_to_sql(ix: PlanIndex) -> Resolution:
    """Analysts' Power BI reads gold as their Entra group's contained user, from a network peered to the VNet."""
    res = Resolution()
    res.need(
        "principal",
        ["report readers' Entra group (docs/serving.md)"] if "powerBiDataSource" in ix.plan.outputs else [],
        "no powerBiDataSource output",
    )
    res.grant.append("contained user with SELECT on gold.v_* (docs/serving.md, runbook)")
    for server in ix.of_type(SQL_SERVER):
        admin_only = dig(server.inputs, "administrators", "azureADOnlyAuthentication") is True
        if not admin_only:
            res.problems.append(f"{server.name} accepts SQL logins; Power BI signs in with Entra ID only")
        res.need(
            "network",
            private_path(ix, server, "sqlServer", platform_vnets(ix)),
            f"no sqlServer endpoint to {server.name} resolvable from the platform VNet",
        )
    return res


def secret_scope_to_key_vault(ix: PlanIndex) -> Resolution:
    """The AzureDatabricks app reads the Key Vault-backed scope (Key Vault Secrets User), as a trusted service.

    Source: https://learn.microsoft.com/azure/databricks/security/secrets/ (Azure Key Vault-backed
    scopes: the AzureDatabricks application needs the secret reader role; a firewalled vault must
    allow trusted Microsoft services).
    """
    res = Resolution()
    for scope in ix.of_type(DBX_SECRET_SCOPE):
        vaults = [v for v in ix.of_type(VAULT) if v.urn in scope.property_dependencies.get("keyvaultMetadata", [])]
        vaults = vaults or ix.of_type(VAULT)
        for vault in vaults:
            # The AzureDatabricks first-party application, not a platform identity (those are other flows).
            grants = [
                g for g in role_grants(ix, KEY_VAULT_SECRETS_USER, [vault]) if not ix.linked(g, "principalId", IDENTITY)
            ]
            res.need(
                "principal",
                sorted({principal_of(ix, g) for g in grants}),
                "the AzureDatabricks application holds no Key Vault Secrets User",
            )
            res.grant.extend(_grant_text(ix, g, "Key Vault Secrets User") for g in grants)
            res.need("network", trusted_service_path(vault), f"{vault.name} does not let trusted services through")
    return res


def _cmk_consumers(ix: PlanIndex) -> list[tuple[PlannedResource, str, list[PlannedResource]]]:
    """(consumer, key name, identities that unwrap it) for every resource encrypted with a vault key."""
    found: list[tuple[PlannedResource, str, list[PlannedResource]]] = []
    for account in ix.of_type(STORAGE):
        enc = account.inputs.get("encryption") or {}
        if str(enc.get("keySource", "")).lower() == "microsoft.keyvault":
            found.append(
                (account, str(dig(enc, "keyVaultProperties", "keyName")), ix.linked(account, "encryption", IDENTITY))
            )
    for ns in ix.of_type(NAMESPACE):
        enc = ns.inputs.get("encryption") or {}
        for props in enc.get("keyVaultProperties") or []:
            found.append((ns, str(props.get("keyName")), ix.linked(ns, "encryption", IDENTITY)))
    for server in ix.of_type(SQL_SERVER):
        keys = [
            k
            for sk in ix.of_type(SQL_SERVER_KEY)
            if server in ix.linked(sk, "serverName", SQL_SERVER)
            for k in ix.linked(sk, "uri", KEY)
        ]
        keys += ix.linked(server, "keyId", KEY)
        for key in {k.urn: k for k in keys}.values():
            found.append((server, str(key.inputs.get("keyName")), ix.linked(server, "identity", IDENTITY)))
    for ws in ix.of_type(WORKSPACE):
        entities = dig(ws.inputs, "encryption", "entities") or {}
        for entity in entities.values():
            found.append((ws, str(dig(entity, "keyVaultProperties", "keyName")), []))
    return found


def cmk_consumers_to_keys(ix: PlanIndex) -> Resolution:
    """Each service encrypted with a customer-managed key unwraps it as its identity (Crypto Service
    Encryption User on the key), through the vault's trusted-service path.

    Source: https://learn.microsoft.com/azure/key-vault/general/overview-vnet-service-endpoints#trusted-services
    (the services that reach a firewalled vault for CMK); role: Key Vault Crypto Service Encryption User.
    """
    res = Resolution()
    for consumer, key_name, identities in _cmk_consumers(ix):
        keys = [k for k in ix.of_type(KEY) if k.inputs.get("keyName") == key_name]
        if not keys:
            res.problems.append(f"{consumer.name}: key {key_name!r} is not in the plan")
            continue
        grants = role_grants(ix, KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER, keys)
        holders = {principal_of(ix, g) for g in grants}
        wanted = {i.name for i in identities}
        if wanted and not wanted & holders:
            res.problems.append(
                f"no grant: {consumer.name} unwraps {key_name} as {sorted(wanted)}, which holds no role on it"
            )
        elif not holders:
            res.problems.append(f"no grant: nobody may unwrap {key_name} for {consumer.name}")
        res.principal.append(f"{consumer.name}: {', '.join(sorted(wanted & holders or holders))}")
        res.grant.append(f"Crypto Service Encryption User on {key_name}")
        for vault in {v.urn: v for k in keys for v in ix.linked(k, "vaultName", VAULT)}.values():
            res.need("network", trusted_service_path(vault), f"{vault.name} does not let trusted services through")
    return res


def alerts_to_gold(ix: PlanIndex) -> Resolution:
    """Each SQL alert runs as its service principal, which needs Databricks SQL access, CAN_USE on the
    alert's warehouse and SELECT on the gold tables its query reads; without them it never evaluates.

    Sources: https://learn.microsoft.com/azure/databricks/sql/user/alerts/ (an alert runs as its
    run-as principal); https://learn.microsoft.com/azure/databricks/compute/sql-warehouse/create#manage
    (CAN_USE to run queries on a warehouse); https://learn.microsoft.com/azure/databricks/admin/users-groups/service-principals
    (the "Databricks SQL access" entitlement).
    """
    res = Resolution()
    for alert in ix.of_type(DBX_ALERT):
        for sp in ix.linked(alert, "runAs", DBX_SERVICE_PRINCIPAL):
            res.principal.append(f"{alert.name}: {sp.name}")
            entitled = sp.inputs.get("databricksSqlAccess") is True or any(
                e.inputs.get("databricksSqlAccess") is True
                and sp.urn in e.property_dependencies.get("servicePrincipalId", [])
                for e in ix.of_type(DBX_ENTITLEMENTS)
            )
            res.need(
                "grant",
                ["Databricks SQL access"] if entitled else [],
                f"{sp.name} lacks the Databricks SQL access entitlement",
            )
            for warehouse in ix.linked(alert, "warehouseId", DBX_WAREHOUSE):
                acl = [
                    p.name
                    for p in ix.of_type(DBX_PERMISSIONS)
                    if warehouse in ix.linked(p, "sqlEndpointId", DBX_WAREHOUSE)
                    and sp.urn in p.property_dependencies.get("accessControls", [])
                ]
                res.need(
                    "grant",
                    [f"CAN_USE on {warehouse.name} ({', '.join(acl)})"] if acl else [],
                    f"{sp.name} may not use {warehouse.name}",
                )
                res.network.append(f"{warehouse.name}: the workspace's own warehouse")
            schemas = {
                u
                for u in alert.property_dependencies.get("queryText", [])
                if u in ix.by_urn and ix.by_urn[u].type == DBX_SCHEMA
            }
            selects = [
                g.name
                for g in ix.of_type(DBX_GRANTS)
                if set(g.property_dependencies.get("schema", [])) & schemas
                and sp.urn in g.property_dependencies.get("grants", [])
                and any("SELECT" in (e.get("privileges") or []) for e in g.inputs.get("grants") or [])
            ]
            res.need(
                "grant",
                [f"SELECT ({', '.join(selects)})"] if selects else [],
                f"{sp.name} may not SELECT what {alert.name} reads",
            )
        if not ix.linked(alert, "runAs", DBX_SERVICE_PRINCIPAL):
            res.problems.append(f"no principal: {alert.name} does not run as a service principal of this stack")
    return res


def _ref_id(value: object) -> str | None:
    """A literal resource id given as `{"id": ...}` or as the string itself (an existing VNet's id)."""
    value = value.get("id") if isinstance(value, dict) else value
    return value.lower() if isinstance(value, str) and known(value) and value.startswith("/") else None


def _runner_network_path(ix: PlanIndex, pe: PlannedResource, runner_id: str) -> list[str]:
    """The runner VNet `runner_id` reaches `pe`: the endpoint's DNS zone is linked to the runner VNet, and
    the endpoint's VNet is peered with it (the reverse direction too, unless its owner makes it: peerBack)."""
    zones = endpoint_zones(ix, pe)
    links = [
        link
        for link in ix.of_type(VNET_LINK)
        if _ref_id(link.inputs.get("virtualNetwork")) == runner_id
        and {z.urn for z in zones} & {z.urn for z in ix.linked(link, "privateZoneName", DNS_ZONE)}
    ]
    pe_vnets = {v.urn for sn in ix.linked(pe, "subnet", SUBNET) for v in ix.linked(sn, "virtualNetworkName", VNET)}
    out_peerings = [
        p
        for p in ix.of_type(PEERING)
        if _ref_id(p.inputs.get("remoteVirtualNetwork")) == runner_id
        and {v.urn for v in ix.linked(p, "virtualNetworkName", VNET)} & pe_vnets
    ]
    back = [
        p
        for p in ix.of_type(PEERING)
        if {v.urn for v in ix.linked(p, "remoteVirtualNetwork", VNET)} & pe_vnets
        and not ix.linked(p, "virtualNetworkName", VNET)  # declared on the runner's own VNet
    ]
    if not (links and out_peerings):
        return []
    zone_names = ", ".join(str(z.inputs.get("privateZoneName")) for z in zones)
    reverse = back[0].name if back else "reverse peering by the runner VNet's owner (peerBack false)"
    return [
        f"{pe.name} -> {zone_names} linked to the runner VNet ({links[0].name}); {out_peerings[0].name} + {reverse}"
    ]


def deploy_runner_to_data_planes(ix: PlanIndex) -> Resolution:
    """`pulumi up` itself calls the private data planes: every Databricks workspace and Unity Catalog
    object goes to the workspace URL (front end `databricks_ui_api`), the API poller's code goes to its
    SCM site (`sites`, OneDeploy), and Confluent topics go to the cluster's REST endpoint. Each call needs
    its principal and grant, and a network path from the runner: the endpoint's DNS zone linked to the
    runner VNet (`network.deployRunner`, exported as `deployRunnerVnetIds`) and the VNets peered.

    Sources: https://learn.microsoft.com/azure/databricks/security/network/classic/private-link (with
    public access disabled the workspace answers only on its front-end private endpoint);
    https://learn.microsoft.com/azure/azure-functions/functions-networking-options#private-endpoints (a
    private endpoint covers the app's SCM site, which deployments call); docs/confluent.md (topics go to
    the cluster's private REST endpoint); docs/first-deploy.md, step 3.
    """
    res = Resolution()
    runners = [r for v in ix.plan.outputs.get("deployRunnerVnetIds") or [] if (r := _ref_id(v))]

    def reach(target: str, endpoints: list[PlannedResource]) -> None:
        if not endpoints:
            res.problems.append(f"no network: {target} has no private endpoint in this stack")
        elif not runners:
            res.problems.append(
                f"no network: {target} answers only on private endpoints and no runner VNet reaches them "
                "(set network.deployRunner: docs/first-deploy.md, step 3)"
            )
        for runner in runners:
            res.need(
                "network",
                [p for pe in endpoints for p in _runner_network_path(ix, pe, runner)],
                f"{target} is not reachable from the runner VNet {runner}",
            )

    for ws in ix.of_type(WORKSPACE):
        admins = [a for a in ix.of_type(DBX_ADMIN_ASSIGNMENT) if "ADMIN" in (a.inputs.get("permissions") or [])]
        res.need(
            "principal",
            [f"deployer {a.inputs.get('principalId')} ({a.name})" for a in admins],
            f"no deployer is made admin of {ws.name} before its first workspace-level call",
        )
        res.grant.extend(f"ADMIN on {ws.name} ({a.name})" for a in admins)
        if ws.inputs.get("publicNetworkAccess") == "Enabled":
            res.network.append(f"{ws.name}: public front end (databricks.publicFrontEndAllowedIps)")
        else:
            reach(f"{ws.name}'s front end", endpoints_to(ix, ws, "databricks_ui_api"))

    for app in ix.of_type(FUNCTION_APP):
        deploys = [c for c in ix.of_type(DEPLOY_COMMAND) if app.urn in c.property_dependencies.get("triggers", [])]
        if not deploys:
            continue  # no code deployment from the runner
        res.principal.append(f"{deploys[0].name}: the runner's Azure CLI sign-in (the deploy identity)")
        res.grant.append("deploy identity's role on the resource group (docs/delivery.md, One-time setup)")
        reach(f"{app.name}'s SCM site", endpoints_to(ix, app, "sites"))

    topics = ix.of_type(CC_TOPIC)
    if topics:
        keys = {k.urn: k for t in topics for k in ix.linked(t, "credentials", CC_API_KEY)}
        owners = {a.urn: a for k in keys.values() for a in ix.linked(k, "owner", CC_SERVICE_ACCOUNT)}
        res.need(
            "principal", sorted(a.name for a in owners.values()), "the topics are created with no key of this stack"
        )
        bindings = sorted(
            rb.name
            for rb in ix.of_type(CC_ROLE_BINDING)
            if rb.inputs.get("roleName") == "DeveloperManage"
            and set(owners) & set(rb.property_dependencies.get("principal", []))
        )
        res.need(
            "grant",
            [f"DeveloperManage ({', '.join(bindings)})"] if bindings else [],
            "the topics' key owner holds no DeveloperManage",
        )
        reach(
            "the Confluent cluster's REST endpoint (topics)",
            [pe for pe in ix.of_type(PRIVATE_ENDPOINT) if "confluent" in pe.name],
        )
    return res


def _both(*types: str) -> Callable[[PlanIndex], bool]:
    return lambda ix: all(ix.of_type(t) for t in types)


FLOWS: tuple[Flow, ...] = (
    Flow("producer->eventhubs", "producer", "Event Hubs", (("P", "EH"),), _both(NAMESPACE), producer_to_event_hubs),
    Flow(
        "producer->confluent", "producer", "Confluent Cloud", (("P", "CC"),), _both(CC_CLUSTER), producer_to_confluent
    ),
    Flow(
        "bronze->eventhubs",
        "bronze job",
        "Event Hubs",
        (("EH", "B"),),
        _both(NAMESPACE, DBX_JOB),
        bronze_from_event_hubs,
    ),
    Flow(
        "bronze->confluent",
        "bronze job",
        "Confluent Cloud",
        (("CC", "B"),),
        _both(CC_CLUSTER, DBX_JOB),
        bronze_from_confluent,
    ),
    Flow(
        "jobs->lake",
        "streaming jobs",
        "lake locations",
        (("B", "LAKE"), ("S", "LAKE"), ("G", "LAKE")),
        _both(DBX_EXTERNAL_LOCATION),
        jobs_to_lake,
    ),
    Flow(
        "hot-path->eventhubs",
        "Kusto data connection",
        "Event Hubs",
        (("EH", "KQL"),),
        _both(KUSTO_EVENTHUB_CONNECTION),
        kusto_from_event_hubs,
    ),
    Flow("poller->keyvault", "API poller", "Key Vault", (("KV", "P"),), _both(FUNCTION_APP), poller_to_key_vault),
    Flow(
        "poller->host-storage",
        "API poller",
        "its host storage",
        (("P", "FST"),),
        _both(FUNCTION_APP),
        poller_to_host_storage,
    ),
    Flow("gold->sql", "gold job", "Azure SQL", (("G", "SQL"),), _both(SQL_SERVER, DBX_JOB), gold_to_sql),
    Flow(
        "alerts->warehouse->gold",
        "SQL alerts",
        "gold via the warehouse",
        (("G", "PBI"),),
        _both(DBX_ALERT),
        alerts_to_gold,
    ),
    Flow("powerbi->sql", "Power BI", "Azure SQL", (("SQL", "PBI"),), _both(SQL_SERVER), power_bi_to_sql),
    Flow(
        "secret-scope->keyvault",
        "secret scope",
        "Key Vault",
        (("KV", "DBX"),),
        _both(DBX_SECRET_SCOPE),
        secret_scope_to_key_vault,
    ),
    Flow(
        "deploy-runner->data-planes",
        "deploy runner",
        "the private data planes `pulumi up` calls",
        (("RUN", "DBX"), ("RUN", "P"), ("RUN", "CC")),
        _both(WORKSPACE),
        deploy_runner_to_data_planes,
    ),
    Flow(
        "cmk-consumers->keys",
        "CMK consumers",
        "their keys",
        (("KV", "LAKE"), ("KV", "EH"), ("KV", "SQL")),
        _both(KEY),
        cmk_consumers_to_keys,
    ),
)

# Edges of the README diagram that draw structure, not an access flow (each says why).
DIAGRAM_STRUCTURE: dict[tuple[str, str], str] = {
    ("B", "S"): "pipeline order: silver reads bronze's Delta table in the lake (jobs->lake)",
    ("S", "G"): "pipeline order: gold reads silver's Delta table in the lake (jobs->lake)",
    ("UC", "LAKE"): "Unity Catalog governs the lake locations (jobs->lake resolves its credential)",
    **{
        (node, "LAW"): "diagnostic settings (policy diagnostic-settings-present)"
        for node in ("EH", "LAKE", "KV", "SQL", "DBX")
    },
    **{
        ("PE", node): "the private endpoints every flow's network path resolves"
        for node in ("EH", "LAKE", "KV", "SQL", "DBX")
    },
}


# ----------------------------------------------------------------------------- evaluation


@dataclass
class AccessReport:
    resolved: dict[str, Resolution] = field(default_factory=dict)  # flow id -> resolution (applicable flows)
    not_applicable: list[str] = field(default_factory=list)

    @property
    def broken(self) -> dict[str, Resolution]:
        return {k: v for k, v in self.resolved.items() if v.problems}

    @property
    def has_errors(self) -> bool:
        return bool(self.broken)


def evaluate(plan: Plan, flows: Iterable[Flow] = FLOWS, ix: PlanIndex | None = None) -> AccessReport:
    ix = ix or PlanIndex(plan)
    report = AccessReport()
    for flow in flows:
        if flow.applies(ix):
            report.resolved[flow.id] = flow.resolve(ix)
        else:
            report.not_applicable.append(flow.id)
    return report


def print_report(report: AccessReport, out: TextIO) -> None:
    out.write(
        f"\nAccess paths (offline/access_paths.py): {len(report.resolved)} flows, {len(report.broken)} broken"
        + (f"; not in this stack: {', '.join(report.not_applicable)}" if report.not_applicable else "")
        + "\n"
    )
    for flow_id, res in report.resolved.items():
        state = "BROKEN" if res.problems else "ok"
        out.write(f"  [{state}] {flow_id}: principal {'; '.join(res.principal) or '-'}\n")
        out.write(f"      grant {'; '.join(res.grant) or '-'}\n      network {'; '.join(res.network) or '-'}\n")
        for problem in res.problems:
            out.write(f"      error: {problem}\n")
