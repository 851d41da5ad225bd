"""Stack config for the serving layer: Azure SQL (`rta-platform:sql`) and the
Databricks SQL dashboards and alerts (`rta-platform:dashboards`).

There is no SQL login, password or connection string anywhere in here: the
server is Entra-only, administered by an Entra group named by its object id,
and everything that connects does so with an Entra token.

Environment rules (prod: zone-redundant Business Critical or Hyperscale, long
term retention, redundant backup storage) need the environment, so they live
in `SqlConfig.stack_problems`, which `StackConfig` calls with it.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from stack_config.section import Email, Section, Uuid

# An Entra object id.
ObjectId = Uuid

# An Entra group's display name: what `CREATE USER [..] FROM EXTERNAL PROVIDER` and the
# server's administrators.login use. No brackets or quotes, so it can never break out of T-SQL.
GroupName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,127}$")]
# A database name we accept (a subset of what Azure allows, safe unquoted in T-SQL and Power BI).
DatabaseName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,127}$")]
# ISO-8601 durations the long-term retention API accepts: weeks, months or years.
LtrDuration = Annotated[str, StringConstraints(pattern=r"^P\d{1,3}[WMY]$")]

# vCore counts the Gen5 hardware offers (1 exists for serverless only).
VCORES = (1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 24, 32, 40, 80)
# Serverless auto-pause: -1 turns it off; otherwise 15 minutes to 7 days.
AUTO_PAUSE_MIN, AUTO_PAUSE_MAX = 15, 10080


class Edition(StrEnum):
    GENERAL_PURPOSE = "GeneralPurpose"
    BUSINESS_CRITICAL = "BusinessCritical"
    HYPERSCALE = "Hyperscale"


class ComputeModel(StrEnum):
    PROVISIONED = "Provisioned"
    SERVERLESS = "Serverless"


_SKU_PREFIX = {Edition.GENERAL_PURPOSE: "GP", Edition.BUSINESS_CRITICAL: "BC", Edition.HYPERSCALE: "HS"}


class BackupStorageRedundancy(StrEnum):
    LOCAL = "Local"
    ZONE = "Zone"
    GEO = "Geo"
    GEO_ZONE = "GeoZone"


class EntraGroupConfig(Section):
    """An Entra group: its display name, and its object id (what a role or admin assignment names)."""

    name: GroupName
    object_id: ObjectId


class AdminGroupConfig(EntraGroupConfig):
    """The Entra group that administers the server (its members can create contained users)."""


class DatabaseConfig(Section):
    """The gold database: vCore SKU, compute model, size and redundancy."""

    name: DatabaseName = "gold"
    edition: Edition
    compute_model: ComputeModel = ComputeModel.PROVISIONED
    family: Literal["Gen5"] = "Gen5"
    # Provisioned: the vCores; serverless: the maximum vCores.
    v_cores: int
    # Serverless only: the floor the database scales down to.
    min_v_cores: float | None = Field(default=None, ge=0.5, le=40)
    # Serverless General Purpose only: minutes idle before pausing, or -1 to never pause.
    auto_pause_delay_minutes: int | None = None
    zone_redundant: bool = False
    max_size_gb: int | None = Field(default=None, ge=1, le=4096)
    # Hyperscale only: secondary replicas for high availability (0-4).
    high_availability_replicas: int | None = Field(default=None, ge=0, le=4)
    backup_storage_redundancy: BackupStorageRedundancy = BackupStorageRedundancy.ZONE

    @property
    def sku_name(self) -> str:
        serverless = "_S" if self.compute_model is ComputeModel.SERVERLESS else ""
        return f"{_SKU_PREFIX[self.edition]}{serverless}_{self.family}"

    @model_validator(mode="after")
    def _sku_rules(self) -> DatabaseConfig:
        problems: list[str] = []
        serverless = self.compute_model is ComputeModel.SERVERLESS
        if self.v_cores not in VCORES:
            problems.append(f"vCores {self.v_cores} is not a Gen5 size; allowed: {list(VCORES)}")
        elif self.v_cores == 1 and not serverless:
            problems.append("vCores 1 exists only with computeModel Serverless")
        if serverless and self.edition is Edition.BUSINESS_CRITICAL:
            problems.append(
                "computeModel Serverless is only offered with edition GeneralPurpose or Hyperscale, "
                "not BusinessCritical"
            )
        if self.min_v_cores is not None:
            if not serverless:
                problems.append(f"minVCores {self.min_v_cores} is only valid with computeModel Serverless")
            elif self.min_v_cores > self.v_cores:
                problems.append(f"minVCores {self.min_v_cores} must not exceed vCores {self.v_cores}")
        if self.auto_pause_delay_minutes is not None:
            delay = self.auto_pause_delay_minutes
            if not (serverless and self.edition is Edition.GENERAL_PURPOSE):
                problems.append(
                    f"autoPauseDelayMinutes {delay} is only valid with computeModel Serverless "
                    "and edition GeneralPurpose"
                )
            elif delay != -1 and not AUTO_PAUSE_MIN <= delay <= AUTO_PAUSE_MAX:
                problems.append(
                    f"autoPauseDelayMinutes {delay} must be -1 (never pause) or {AUTO_PAUSE_MIN}-{AUTO_PAUSE_MAX}"
                )
        if self.high_availability_replicas is not None and self.edition is not Edition.HYPERSCALE:
            problems.append(
                f"highAvailabilityReplicas {self.high_availability_replicas} is only valid with edition Hyperscale"
            )
        if self.max_size_gb is not None and self.edition is Edition.HYPERSCALE:
            problems.append(
                f"maxSizeGb {self.max_size_gb} must be absent with edition Hyperscale (it grows on its own)"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self


class LongTermRetentionConfig(Section):
    """Long-term backup retention (LTR): weekly, monthly and yearly full backups kept for ISO-8601 periods."""

    weekly_retention: LtrDuration | None = None
    monthly_retention: LtrDuration | None = None
    yearly_retention: LtrDuration | None = None
    # Which week's backup is kept as the yearly one.
    week_of_year: int = Field(default=1, ge=1, le=52)

    @model_validator(mode="after")
    def _something_kept(self) -> LongTermRetentionConfig:
        if not (self.weekly_retention or self.monthly_retention or self.yearly_retention):
            raise ValueError(
                "set at least one of weeklyRetention, monthlyRetention, yearlyRetention "
                "(for example P4W, P12M, P5Y), or remove longTermRetention"
            )
        if self.yearly_retention is None and "week_of_year" in self.model_fields_set:
            raise ValueError(f"weekOfYear {self.week_of_year} is only meaningful with yearlyRetention")
        return self


class BackupConfig(Section):
    # Point-in-time restore window.
    short_term_retention_days: int = Field(default=7, ge=1, le=35)
    # Differential backup cadence (not used by Hyperscale, which keeps snapshots).
    differential_backup_interval_hours: Literal[12, 24] = 12
    long_term_retention: LongTermRetentionConfig | None = None


# Azure's region pairs for the locations stacks may use
# (https://learn.microsoft.com/azure/reliability/cross-region-replication-azure).
PAIRED_REGIONS = {
    "westeurope": "northeurope",
    "northeurope": "westeurope",
    "swedencentral": "swedensouth",
    "germanywestcentral": "germanynorth",
}


class FailoverGroupConfig(Section):
    """A failover group to a partner server in another region (Microsoft.Sql/servers/failoverGroups).

    The partner server is built like the primary (Entra-only, private, CMK, auditing); Azure seeds the
    gold database's geo-secondary there when the group lists it. `Manual`: the operator fails over
    (docs/operations.md, restore drill). `Automatic`: Azure fails over with possible data loss after
    `gracePeriodMinutes`, which the API requires with it and which is at least 60
    (failoverWithDataLossGracePeriodMinutes; New-AzSqlDatabaseFailoverGroup: "only values greater than
    or equal to 1 hour are supported").
    """

    # Unset: the primary location's paired region.
    partner_location: str | None = None
    failover_policy: Literal["Manual", "Automatic"] = "Manual"
    grace_period_minutes: int | None = Field(default=None, ge=60)

    @model_validator(mode="after")
    def _grace_with_automatic(self) -> FailoverGroupConfig:
        if self.failover_policy == "Automatic" and self.grace_period_minutes is None:
            raise ValueError("failoverGroup.gracePeriodMinutes (at least 60) is required with failoverPolicy Automatic")
        if self.failover_policy == "Manual" and self.grace_period_minutes is not None:
            raise ValueError("failoverGroup.gracePeriodMinutes is only meaningful with failoverPolicy Automatic")
        return self

    def partner(self, location: str) -> str | None:
        """The partner server's region: the configured one, else the primary's pair (None: no pair known)."""
        return self.partner_location or PAIRED_REGIONS.get(location)


class SqlConfig(Section):
    """`rta-platform:sql`: the Entra-only logical server and its gold database."""

    admin_group: AdminGroupConfig
    database: DatabaseConfig
    backup: BackupConfig = BackupConfig()
    # Server audit retention; events also go to Log Analytics, which keeps its own retention.
    # 0 keeps them forever; otherwise at least 90 days (zero-trust control SQ-07).
    audit_retention_days: int = Field(default=90, ge=0, le=3285)
    # Who Defender for SQL mails besides the subscription admins.
    security_alert_emails: tuple[Email, ...] = ()
    # A geo-secondary of the gold database in another region, behind a failover group (prod option).
    failover_group: FailoverGroupConfig | None = None

    @model_validator(mode="after")
    def _audit_retention(self) -> SqlConfig:
        if 0 < self.audit_retention_days < 90:
            raise ValueError(f"auditRetentionDays {self.audit_retention_days} must be 0 (unlimited) or at least 90")
        return self

    def stack_problems(self, *, is_prod: bool, cmk_key_size: int | None, location: str) -> list[str]:
        """Rules that depend on other sections or the environment; each message names the full key."""
        problems = []
        if self.failover_group is not None:
            partner = self.failover_group.partner(location)
            if partner is None:
                problems.append(
                    f"sql.failoverGroup.partnerLocation is required: {location!r} has no known paired region"
                )
            elif partner == location:
                problems.append(f"sql.failoverGroup.partnerLocation {partner!r} is the primary's own region")
        if cmk_key_size is not None and cmk_key_size not in (2048, 3072):
            problems.append(
                f"encryption.keySize {cmk_key_size} cannot protect Azure SQL TDE (sql is configured); use 2048 or 3072"
            )
        if not is_prod:
            return problems
        db = self.database
        if db.edition not in (Edition.BUSINESS_CRITICAL, Edition.HYPERSCALE):
            problems.append(
                f"sql.database.edition {db.edition.value!r} is not allowed in prod; use BusinessCritical or Hyperscale"
            )
        if not db.zone_redundant:
            problems.append("sql.database.zoneRedundant must be true in prod")
        if db.backup_storage_redundancy is BackupStorageRedundancy.LOCAL:
            problems.append(
                "sql.database.backupStorageRedundancy 'Local' is not allowed in prod; use Zone, Geo or GeoZone"
            )
        if db.auto_pause_delay_minutes not in (None, -1):
            problems.append(
                f"sql.database.autoPauseDelayMinutes {db.auto_pause_delay_minutes} is not allowed in prod "
                "(a paused database misses the seconds-fresh target); remove it or use -1"
            )
        if self.backup.long_term_retention is None:
            problems.append("sql.backup.longTermRetention is required in prod")
        return problems


# ----------------------------------------------------------------------------- dashboards

WAREHOUSE_SIZES = ("2X-Small", "X-Small", "Small", "Medium", "Large", "X-Large", "2X-Large", "3X-Large", "4X-Large")
WarehouseSize = Literal[
    "2X-Small", "X-Small", "Small", "Medium", "Large", "X-Large", "2X-Large", "3X-Large", "4X-Large"
]
# A Databricks workspace folder (the dashboard and alerts live there).
WorkspaceFolder = Annotated[str, StringConstraints(pattern=r"^/(Workspace/)?(Shared|Users/[^/]+)(/[A-Za-z0-9 ._-]+)*$")]
_IANA_ZONE = re.compile(r"^(UTC|[A-Z][A-Za-z_]+(/[A-Za-z_+-]+){1,2})$")


class WarehouseConfig(Section):
    size: WarehouseSize = "2X-Small"
    min_clusters: int = Field(default=1, ge=1, le=30)
    max_clusters: int = Field(default=1, ge=1, le=30)
    # PRO runs in the workspace's own (injected) VNet and reaches the private lake through its private
    # endpoints. Serverless runs in Databricks' network: with the lake's public access disabled it reaches
    # the lake only through a network connectivity config with private endpoint rules to its dfs and blob
    # (learn.microsoft.com/azure/databricks/security/network/serverless-network-security/serverless-private-link;
    # databricks/terraform-databricks-sra azure/tf/modules/hub/serverless.tf). This stack does not create
    # one yet, so serverless is refused rather than deployed unable to read gold.
    serverless: bool = False
    # Minutes idle (no running query) before the warehouse stops; a PRO or classic warehouse takes 0 or at
    # least 10 (Warehouses API `auto_stop_mins`: docs.databricks.com/api/workspace/warehouses/create).
    auto_stop_minutes: int = Field(default=10, ge=1, le=1440)
    # The SQL alerts query this warehouse every `dashboards.alertIntervalMinutes`. When that is not longer
    # than `autoStopMinutes` each evaluation lands inside the idle delay and the warehouse never stops while
    # the alerts are scheduled (all month; with `databricks.jobs.runWindow`, the window's hours). Such a
    # stack must say so here: `keptUpByAlerts: true` accepts that bill (offline/cost.py counts it).
    kept_up_by_alerts: bool = False

    @model_validator(mode="after")
    def _scaling(self) -> WarehouseConfig:
        problems = []
        if self.max_clusters < self.min_clusters:
            problems.append(f"maxClusters {self.max_clusters} must be >= minClusters {self.min_clusters}")
        if not self.serverless and self.auto_stop_minutes < 10:
            problems.append(
                f"autoStopMinutes {self.auto_stop_minutes} must be at least 10 for a non-serverless warehouse"
            )
        if self.serverless:
            problems.append(
                "serverless true needs a network connectivity config with private endpoint rules to the lake "
                "(its public access is disabled), which this stack does not create; use a PRO warehouse "
                "(serverless false), which reaches the lake through the workspace VNet's private endpoints"
            )
        if self.serverless and self.auto_stop_minutes < 5:
            problems.append(f"autoStopMinutes {self.auto_stop_minutes} must be at least 5")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class DashboardsConfig(Section):
    """`rta-platform:dashboards`: the SQL warehouse, the trading dashboard and the SQL alerts."""

    warehouse: WarehouseConfig = WarehouseConfig()
    # Where the alerts mail: one email notification destination holding these addresses.
    notification_emails: tuple[Email, ...] = Field(min_length=1)
    # How often each SQL alert evaluates its query.
    alert_interval_minutes: int = Field(default=1, ge=1, le=59)
    # Alerts look this far back in the gold alerts table.
    alert_lookback_minutes: int = Field(default=5, ge=1, le=1440)
    timezone: str = "UTC"
    folder: WorkspaceFolder = "/Workspace/Shared/rta-platform"

    @model_validator(mode="after")
    def _rules(self) -> DashboardsConfig:
        problems = []
        if len(set(self.notification_emails)) != len(self.notification_emails):
            problems.append(f"notificationEmails has duplicates: {list(self.notification_emails)}")
        if not _IANA_ZONE.match(self.timezone):
            problems.append(f"timezone {self.timezone!r} is not an IANA time zone id such as 'UTC' or 'Europe/Berlin'")
        if self.alert_lookback_minutes < self.alert_interval_minutes:
            problems.append(
                f"alertLookbackMinutes {self.alert_lookback_minutes} must be >= alertIntervalMinutes "
                f"{self.alert_interval_minutes}, or alerts between two checks are missed"
            )
        stop = self.warehouse.auto_stop_minutes
        if self.alert_interval_minutes <= stop and not self.warehouse.kept_up_by_alerts:
            problems.append(
                f"alertIntervalMinutes {self.alert_interval_minutes} is not longer than warehouse.autoStopMinutes "
                f"{stop}: every alert evaluation lands inside the warehouse's idle delay, so it never stops while "
                "the alerts are scheduled and is billed for all of those hours. Raise alertIntervalMinutes above "
                "autoStopMinutes so it stops between evaluations, or set warehouse.keptUpByAlerts true to accept "
                "an always-running warehouse"
            )
        if self.alert_interval_minutes > stop and self.warehouse.kept_up_by_alerts:
            problems.append(
                f"warehouse.keptUpByAlerts is true but alertIntervalMinutes {self.alert_interval_minutes} is longer "
                f"than warehouse.autoStopMinutes {stop}: the warehouse stops between evaluations; remove "
                "keptUpByAlerts"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self
