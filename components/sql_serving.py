"""Azure SQL serving layer: an Entra-only, private logical server and the gold database.

Zero trust by construction:
- Entra ID is the only way in (`azureADOnlyAuthentication`, set at creation --
  switching an existing server fails in some API versions); there is no SQL
  admin login, so no password exists to store, leak or rotate.
- No public endpoint, no firewall rules, outbound access restricted; clients
  (the gold job on Databricks, Power BI through a gateway/VNet) arrive through
  the private endpoint registered in `privatelink.database.windows.net`.
- TLS 1.2 minimum; TDE on (service key, or the platform Key Vault's CMK with
  auto-rotation); server auditing and Defender for SQL to Log Analytics.

Optionally (`failover_group`), a partner server in another region built the
same way (Entra-only, private endpoint, CMK protector, auditing, Defender) and
a failover group (Microsoft.Sql/servers/failoverGroups, API 2023-08-01) that
lists the gold database, so Azure seeds its geo-secondary on the partner.
- The failover group takes the partner by resource id (`partnerServers[].id`),
  the databases by id, and a read-write endpoint policy; with `Automatic` the
  API requires `failoverWithDataLossGracePeriodMinutes`, at least 60
  (learn.microsoft.com/azure/azure-sql/database/failover-group-sql-db;
  learn.microsoft.com/powershell/module/az.sql/new-azsqldatabasefailovergroup).
- The partner needs the TDE protector's key registered before the geo-link:
  both servers use the platform vault's key (a server may use a vault in any
  region; Key Vault replicates to its paired region), through the same
  user-assigned identity
  (techcommunity.microsoft.com/blog/azuresqlblog/geo-replication-and-transparent-data-encryption-key-management-in-azure-sql-data/4459670).
- The partner's private endpoint sits in the stack's endpoint subnet and zone
  (a private endpoint may connect to a resource in another region,
  learn.microsoft.com/azure/private-link/private-endpoint-overview), so the
  listener `<group>.database.windows.net` resolves privately to whichever
  server is primary.

Database users are data-plane objects: the contained user for the job
identity and the gold tables are created by the serving migrations
(`streaming_jobs/serving/`), not here. This component hands out what they need:
server FQDN and database name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_azure_native import sql

from components.base import (
    CustomerManagedKeyArgs,
    DiagnosticsArgs,
    PlatformComponent,
    ServiceArgs,
)
from components.power_bi import pbids_json

# The public cloud's SQL DNS suffix; the private endpoint's zone is privatelink.<suffix>.
SQL_DNS_SUFFIX = "database.windows.net"
# What the server audits (Azure's recommended default set): every login, failed or not, and every batch.
AUDIT_ACTION_GROUPS = (
    "SUCCESSFUL_DATABASE_AUTHENTICATION_GROUP",
    "FAILED_DATABASE_AUTHENTICATION_GROUP",
    "BATCH_COMPLETED_GROUP",
)
# Server-level audit events land in the master database's diagnostic stream.
AUDIT_LOG_CATEGORY = "SQLSecurityAuditEvents"


@dataclass(frozen=True)
class SqlAdminGroupArgs:
    """The Entra group that administers the server."""

    login: str  # the group's display name
    object_id: str
    tenant_id: pulumi.Input[str]


@dataclass(frozen=True)
class SqlDatabaseArgs:
    """The gold database's vCore SKU and redundancy."""

    name: str
    sku_name: str  # e.g. GP_S_Gen5, BC_Gen5, HS_Gen5
    tier: str  # GeneralPurpose | BusinessCritical | Hyperscale
    family: str
    capacity: int
    zone_redundant: bool
    backup_storage_redundancy: str  # Local | Zone | Geo | GeoZone
    min_capacity: float | None = None  # serverless only
    auto_pause_delay_minutes: int | None = None  # serverless only; -1 = never
    max_size_gb: int | None = None
    high_availability_replicas: int | None = None  # Hyperscale only

    @property
    def serverless(self) -> bool:
        return "_S_" in self.sku_name


@dataclass(frozen=True)
class LongTermRetentionArgs:
    weekly_retention: str | None = None  # ISO-8601, e.g. P4W
    monthly_retention: str | None = None  # e.g. P12M
    yearly_retention: str | None = None  # e.g. P5Y
    week_of_year: int = 1


@dataclass(frozen=True)
class SqlBackupArgs:
    short_term_retention_days: int = 7
    differential_backup_interval_hours: int = 12
    long_term: LongTermRetentionArgs | None = None


@dataclass(frozen=True)
class SqlFailoverGroupArgs:
    """A failover group to a partner server in another region."""

    group_name: str  # globally unique: the listener is <group_name>.database.windows.net
    partner_server_name: str
    partner_location: str
    failover_policy: str = "Manual"  # Manual | Automatic
    grace_period_minutes: int | None = None  # required with Automatic, >= 60


@dataclass(frozen=True, kw_only=True)
class SqlServingArgs(ServiceArgs):
    server_name: str
    admin_group: SqlAdminGroupArgs
    database: SqlDatabaseArgs
    backup: SqlBackupArgs = SqlBackupArgs()
    # The server's user-assigned identity; required with a customer-managed key (it unwraps it).
    identity_id: pulumi.Input[str] | None = None
    customer_managed_key: CustomerManagedKeyArgs | None = None
    audit_retention_days: int = 90
    security_alert_emails: Sequence[str] = field(default_factory=tuple)
    # sub_scope None = the server, "database" = the gold database (control plane only: data access is SQL users).
    dns_suffix: str = SQL_DNS_SUFFIX
    failover_group: SqlFailoverGroupArgs | None = None


class SqlServing(PlatformComponent):
    """Server, gold database, auditing, Defender, TDE, backups, private endpoint; the `.pbids` for Power BI."""

    def __init__(self, name: str, args: SqlServingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("SqlServing", name, args.common, opts)
        c = args.common
        cmk = args.customer_managed_key
        if cmk is not None and (args.identity_id is None or cmk.key_uri_with_version is None):
            raise ValueError(f"{name}: a customer-managed key needs identity_id and the key's versioned URI")

        self.server = self._server(f"{name}-server", args.server_name, c.location, args)
        # Known before apply, so previews, the job parameters and the .pbids never wait on an unknown.
        self.fqdn: str = f"{args.server_name}.{args.dns_suffix}"
        self.server_id: pulumi.Output[str] = self.server.id

        self.encryption_protector: sql.EncryptionProtector | None = None
        if cmk is not None:
            self.encryption_protector = self._customer_managed_protector(name, args, cmk, self.server)

        # Business Critical has a readable secondary (read scale-out): Power BI reads there (the .pbids below).
        self.read_scale_out: bool = args.database.tier == "BusinessCritical"
        self.database = self._database(name, args)
        self.database_name: str = args.database.name
        # TDE explicitly on: a later change to "Disabled" shows up as a diff (and a policy violation).
        self.tde = sql.TransparentDataEncryption(
            f"{name}-db-tde",
            tde_name="current",
            database_name=self.database.name,
            server_name=self.server.name,
            resource_group_name=c.resource_group_name,
            state=sql.TransparentDataEncryptionState.ENABLED,
            opts=self._opts(
                depends_on=[self.database] + ([self.encryption_protector] if self.encryption_protector else [])
            ),
        )
        self._backups(name, args)
        (self.audit_diagnostics, self.auditing, self.security_alerts, self.vulnerability_assessment) = (
            self._auditing_and_defender(name, args, self.server)
        )

        self.add_diagnostics(f"{name}-db", self.database, self.database.id, args.diagnostics)
        ((self.private_endpoint, self.private_dns_zone_group),) = self.add_private_endpoints(
            name, self.server, self.server.id, args.private_endpoints, lambda _: f"pe-{args.server_name}"
        )
        self.add_role_assignments(
            name,
            {None: (self.server, self.server.id), "database": (self.database, self.database.id)},
            args.role_assignments,
        )

        self.failover_group: sql.FailoverGroup | None = None
        self.partner_server: sql.Server | None = None
        if args.failover_group is not None:
            self._failover_group(name, args, args.failover_group)

        # The Power BI data source file: server and database only, no credential.
        self.pbids: str = pbids_json(self.fqdn, self.database_name, read_only_replica=self.read_scale_out)
        self.register_outputs(
            {
                "server_id": self.server_id,
                "fqdn": self.fqdn,
                "database_name": self.database_name,
                "database_id": self.database.id,
                "pbids": self.pbids,
            }
        )

    # ------------------------------------------------------------------ pieces

    def _server(
        self, resource_name: str, server_name: str, location: pulumi.Input[str], args: SqlServingArgs
    ) -> sql.Server:
        """A logical server as every one of the platform's is: Entra-only, private, TLS 1.2, outbound closed."""
        admin, cmk = args.admin_group, args.customer_managed_key
        return sql.Server(
            resource_name,
            server_name=server_name,
            resource_group_name=args.common.resource_group_name,
            location=location,
            version="12.0",
            administrators=sql.ServerExternalAdministratorArgs(
                administrator_type=sql.AdministratorType.ACTIVE_DIRECTORY,
                azure_ad_only_authentication=True,
                login=admin.login,
                sid=admin.object_id,
                principal_type=sql.PrincipalType.GROUP,
                tenant_id=admin.tenant_id,
            ),
            minimal_tls_version=sql.MinimalTlsVersion.MINIMAL_TLS_VERSION_1_2,
            public_network_access=sql.ServerPublicNetworkAccessFlag.DISABLED,
            restrict_outbound_network_access=sql.ServerNetworkAccessFlag.ENABLED,
            identity=sql.ResourceIdentityArgs(
                type=sql.IdentityType.USER_ASSIGNED, user_assigned_identities=[args.identity_id]
            )
            if args.identity_id is not None
            else None,
            primary_user_assigned_identity_id=args.identity_id,
            # No `keyId` here: the CMK is registered exactly once, by the ServerKey + EncryptionProtector
            # below (see `_customer_managed_protector` for why both at once fail on a first `up`).
            tags=dict(self.tags),
            opts=self._opts(depends_on=list(cmk.depends_on) if cmk else []),
        )

    def _failover_group(self, name: str, args: SqlServingArgs, fog: SqlFailoverGroupArgs) -> None:
        """The partner server (built like the primary) and the failover group holding the gold database."""
        c, cmk = args.common, args.customer_managed_key
        partner_name = f"{name}-partner"
        self.partner_server = partner = self._server(
            f"{partner_name}-server", fog.partner_server_name, fog.partner_location, args
        )
        protector = self._customer_managed_protector(partner_name, args, cmk, partner) if cmk else None
        _, partner_auditing, partner_alerts, _ = self._auditing_and_defender(partner_name, args, partner)
        self.add_private_endpoints(
            partner_name, partner, partner.id, args.private_endpoints, lambda _: f"pe-{fog.partner_server_name}"
        )
        automatic = fog.failover_policy == "Automatic"
        self.failover_group = sql.FailoverGroup(
            f"{name}-failover-group",
            failover_group_name=fog.group_name,
            server_name=self.server.name,
            resource_group_name=c.resource_group_name,
            partner_servers=[sql.PartnerInfoArgs(id=partner.id)],
            databases=[self.database.id],
            read_write_endpoint=sql.FailoverGroupReadWriteEndpointArgs(
                failover_policy=sql.ReadWriteEndpointFailoverPolicy(fog.failover_policy),
                failover_with_data_loss_grace_period_minutes=fog.grace_period_minutes if automatic else None,
            ),
            # Read-only traffic stays on the secondary; it is not moved to the primary while that is down.
            read_only_endpoint=sql.FailoverGroupReadOnlyEndpointArgs(
                failover_policy=sql.ReadOnlyEndpointFailoverPolicy.DISABLED
            ),
            tags=dict(self.tags),
            # The geo-secondary is seeded only once the partner holds the protector's key and is audited.
            opts=self._opts(
                depends_on=[self.database, self.tde, partner, partner_auditing, partner_alerts]
                + ([protector] if protector else [])
            ),
        )

    def _customer_managed_protector(
        self, name: str, args: SqlServingArgs, cmk: CustomerManagedKeyArgs, server: sql.Server
    ) -> sql.EncryptionProtector:
        """Register the vault key once (ServerKey) and make it the TDE protector, with auto-rotation.

        One mechanism only. A server created with `keyId` already holds the key as server key
        `<vault>_<key>_<version>` and an AzureKeyVault protector, and azure-native refuses to create
        a resource that already exists: its `Create` first calls `CanCreate`, which fails on an
        existing ServerKey and on an EncryptionProtector whose state is not the default
        `serverKeyType: ServiceManaged` (pulumi/pulumi-azure-native provider/pkg/provider/provider.go
        `defaultCreate`; provider/pkg/openapi/defaults/defaultResourcesState.go). So the server is
        created without `keyId`, and the database, the only thing TDE protects, waits for the protector.
        Server key naming and `autoRotationEnabled`: learn.microsoft.com/rest/api/sql/server-keys/create-or-update,
        learn.microsoft.com/azure/azure-sql/database/transparent-data-encryption-byok-key-rotation.
        """
        c = args.common
        # Azure names a Key Vault server key vault_key_version.
        key_name = pulumi.Output.from_input(cmk.key_uri_with_version).apply(_server_key_name)
        server_key = sql.ServerKey(
            f"{name}-server-key",
            key_name=key_name,
            server_name=server.name,
            resource_group_name=c.resource_group_name,
            server_key_type=sql.ServerKeyType.AZURE_KEY_VAULT,
            uri=cmk.key_uri_with_version,
            opts=self._opts(depends_on=[server, *cmk.depends_on]),
        )
        return sql.EncryptionProtector(
            f"{name}-encryption-protector",
            encryption_protector_name="current",
            server_name=server.name,
            resource_group_name=c.resource_group_name,
            server_key_type=sql.ServerKeyType.AZURE_KEY_VAULT,
            server_key_name=server_key.name,
            # Follows the vault's rotation policy to each new key version.
            auto_rotation_enabled=True,
            opts=self._opts(depends_on=[server_key]),
        )

    def _database(self, name: str, args: SqlServingArgs) -> sql.Database:
        db = args.database
        return sql.Database(
            f"{name}-db",
            database_name=db.name,
            server_name=self.server.name,
            resource_group_name=args.common.resource_group_name,
            location=args.common.location,
            sku=sql.SkuArgs(name=db.sku_name, tier=db.tier, family=db.family, capacity=db.capacity),
            min_capacity=db.min_capacity if db.serverless else None,
            auto_pause_delay=db.auto_pause_delay_minutes if db.serverless else None,
            zone_redundant=db.zone_redundant,
            max_size_bytes=db.max_size_gb * 1024**3 if db.max_size_gb else None,
            high_availability_replica_count=db.high_availability_replicas,
            requested_backup_storage_redundancy=sql.BackupStorageRedundancy(db.backup_storage_redundancy),
            # Business Critical's readable secondary serves dashboard reads off the primary.
            read_scale=sql.DatabaseReadScale.ENABLED if self.read_scale_out else None,
            tags=dict(self.tags),
            opts=self._opts(
                depends_on=[self.server] + ([self.encryption_protector] if self.encryption_protector else [])
            ),
        )

    def _backups(self, name: str, args: SqlServingArgs) -> None:
        c, b = args.common, args.backup
        hyperscale = args.database.tier == "Hyperscale"
        self.short_term_retention = sql.BackupShortTermRetentionPolicy(
            f"{name}-db-backup-str",
            policy_name="default",
            database_name=self.database.name,
            server_name=self.server.name,
            resource_group_name=c.resource_group_name,
            retention_days=b.short_term_retention_days,
            # Hyperscale keeps storage snapshots and has no differential backups.
            diff_backup_interval_in_hours=None if hyperscale else b.differential_backup_interval_hours,
            opts=self._opts(depends_on=[self.database]),
        )
        self.long_term_retention: sql.LongTermRetentionPolicy | None = None
        if b.long_term is not None:
            ltr = b.long_term
            self.long_term_retention = sql.LongTermRetentionPolicy(
                f"{name}-db-backup-ltr",
                policy_name="default",
                database_name=self.database.name,
                server_name=self.server.name,
                resource_group_name=c.resource_group_name,
                weekly_retention=ltr.weekly_retention,
                monthly_retention=ltr.monthly_retention,
                yearly_retention=ltr.yearly_retention,
                week_of_year=ltr.week_of_year if ltr.yearly_retention else None,
                # Azure rejects concurrent backup-policy writes on one database.
                opts=self._opts(depends_on=[self.database, self.short_term_retention]),
            )

    def _auditing_and_defender(
        self, name: str, args: SqlServingArgs, server: sql.Server
    ) -> tuple[
        Any, sql.ServerBlobAuditingPolicy, sql.ServerSecurityAlertPolicy, sql.SqlVulnerabilityAssessmentsSetting
    ]:
        """Server auditing to the workspace, Defender for SQL and its express vulnerability assessment."""
        c = args.common
        # Server audit events are emitted by the master database: send that stream to the workspace
        # first, then switch the audit policy's Azure Monitor target on.
        audit_diagnostics = self.add_diagnostics(
            f"{name}-master-audit",
            server,
            pulumi.Output.concat(server.id, "/databases/master"),
            DiagnosticsArgs(
                workspace_id=args.diagnostics.workspace_id,
                category_groups=(),
                categories=(AUDIT_LOG_CATEGORY,),
                metrics=False,
            ),
        )
        auditing = sql.ServerBlobAuditingPolicy(
            f"{name}-auditing",
            blob_auditing_policy_name="default",
            server_name=server.name,
            resource_group_name=c.resource_group_name,
            state=sql.BlobAuditingPolicyState.ENABLED,
            is_azure_monitor_target_enabled=True,
            audit_actions_and_groups=list(AUDIT_ACTION_GROUPS),
            retention_days=args.audit_retention_days,
            opts=self._opts(depends_on=[server, audit_diagnostics]),
        )
        security_alerts = sql.ServerSecurityAlertPolicy(
            f"{name}-defender",
            security_alert_policy_name="Default",
            server_name=server.name,
            resource_group_name=c.resource_group_name,
            state=sql.SecurityAlertsPolicyState.ENABLED,
            disabled_alerts=[],
            email_account_admins=True,
            email_addresses=list(args.security_alert_emails) or None,
            opts=self._opts(depends_on=[server]),
        )
        # Express vulnerability assessment (no storage account needed); results land in Defender for Cloud.
        vulnerability_assessment = sql.SqlVulnerabilityAssessmentsSetting(
            f"{name}-vulnerability-assessment",
            vulnerability_assessment_name="default",
            server_name=server.name,
            resource_group_name=c.resource_group_name,
            state=sql.SqlVulnerabilityAssessmentState.ENABLED,
            opts=self._opts(depends_on=[security_alerts]),
        )
        return audit_diagnostics, auditing, security_alerts, vulnerability_assessment


def _server_key_name(key_uri_with_version: str | None) -> str:
    """https://<vault>.vault.azure.net/keys/<key>/<version> -> <vault>_<key>_<version>."""
    if not key_uri_with_version:
        raise ValueError("the customer-managed key has no versioned URI")
    host, _, path = key_uri_with_version.removeprefix("https://").partition("/")
    parts = path.strip("/").split("/")
    if len(parts) != 3 or parts[0] != "keys" or not all(parts):
        raise ValueError(f"not a versioned Key Vault key URI: {key_uri_with_version!r}")
    return f"{host.split('.')[0]}_{parts[1]}_{parts[2]}"
