"""Stack config for the processing layer: `rta-platform:databricks`.

The workspace is private by default (no public front end, no public IPs, no
Azure Databricks NSG rules); personal access tokens are off; grants go to
named groups only. The insecure conveniences that exist at all are explicit,
named switches (`allowPublicFrontEnd`, `personalAccessTokens.enabled`), and
prod refuses them.

Tenant- and account-specific ids (the region's Unity Catalog metastore, the
AzureDatabricks first-party app's object id in your tenant) cannot be derived:
docs/databricks.md says where to find them.
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, StringConstraints, model_validator

from stack_config.section import Email, Section, Uuid
from streaming_jobs.runtime import DEPLOYED_RUNTIME, RuntimeMismatchError, check_runtime

# A Databricks account group's display name (what Unity Catalog grants and permissions name).
GroupName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,127}$")]
# Unity Catalog identifiers we accept: lower case, safe unquoted in SQL.
CatalogName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,62}$")]
# A Databricks runtime key such as "17.3.x-scala2.13" (ML and GPU runtimes are not for these jobs); which
# ones the jobs run on is streaming_jobs/runtime.py's to say.
SparkVersion = Annotated[str, StringConstraints(pattern=r"^\d{1,2}(\.\d{1,2})?\.x(-photon)?-scala\d\.\d{1,2}$")]
AzureVmSize = Annotated[str, StringConstraints(pattern=r"^Standard_[A-Za-z0-9_]{2,40}$")]
Symbol = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9.\-]{0,11}$")]
# Spark interval strings the jobs pass to withWatermark / window: "30 seconds", "1 minute".
SparkInterval = Annotated[str, StringConstraints(pattern=r"^[1-9]\d{0,3} (second|minute|hour)s?$")]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
# A Databricks account-level id (the SCIM id of a user, service principal or group): a decimal integer.
DatabricksId = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,20}$")]

# Unity Catalog principals that mean "everyone": never the target of a grant from config.
BROAD_PRINCIPALS = frozenset({"account users", "users", "all users", "all account users", "admins"})

# The oldest runtime these jobs run on: Unity Catalog service credentials in the
# Kafka source (Event Hubs with Entra ID, no secret) need Databricks Runtime 16.1.
MIN_SPARK_VERSION = (16, 1)


class DatabricksAuth(StrEnum):
    """How the pulumi-databricks provider authenticates to the workspace (never a PAT)."""

    # CI: the GitHub Actions OIDC token, exchanged for an Entra token of ARM_CLIENT_ID.
    GITHUB_OIDC_AZURE = "github-oidc-azure"
    # A runner VM's managed identity.
    AZURE_MSI = "azure-msi"
    # A developer's `az login` (dev only).
    AZURE_CLI = "azure-cli"


class MetastoreAssignment(StrEnum):
    """Who assigns the region's metastore to the new workspace."""

    # This stack does (account API): a region or account without automatic assignment.
    CREATE = "create"
    # Databricks did when it created the workspace (automatic enablement); creating it again conflicts.
    AUTOMATIC = "automatic"


class DeployerConfig(Section):
    """The identity that runs `pulumi up` (the deploy pipeline's Entra application), as the Databricks
    account knows it: it is made workspace admin through the account before any workspace call."""

    # Its Entra application (client) id: the name of its account-level service principal.
    application_id: Uuid
    # Its numeric id in the Databricks account (account console > User management > Service principals,
    # or `databricks account service-principals list --filter "applicationId eq <id>"`).
    account_principal_id: DatabricksId


class PersonalAccessTokensConfig(Section):
    # Off by default: jobs run as a service principal and deployers use Entra ID.
    enabled: bool = False
    # The cap applies when tokens are enabled.
    max_lifetime_days: int = Field(default=7, ge=1, le=90)


class ClusterPolicyConfig(Section):
    # The runtime the jobs are tested on (streaming_jobs/runtime.py); another Spark line is refused.
    spark_version: SparkVersion = DEPLOYED_RUNTIME
    # Node types clusters may use; the first is the default.
    node_types: tuple[AzureVmSize, ...] = Field(default=("Standard_D4ds_v5",), min_length=1)
    min_workers: int = Field(default=1, ge=1, le=100)
    max_workers: int = Field(default=4, ge=2, le=100)
    # Interactive (all-purpose) clusters must stop after this many idle minutes.
    autotermination_minutes: int = Field(default=30, ge=10, le=240)

    @model_validator(mode="after")
    def _consistent(self) -> ClusterPolicyConfig:
        problems: list[str] = []
        if self.min_workers >= self.max_workers:
            problems.append(
                f"minWorkers {self.min_workers} must be below maxWorkers {self.max_workers} (job clusters autoscale "
                "between them, and Databricks needs max_workers strictly greater than min_workers)"
            )
        version = self.spark_version.split(".x")[0].split(".")
        major, minor = int(version[0]), int(version[1]) if len(version) > 1 else 0
        if (major, minor) < MIN_SPARK_VERSION:
            problems.append(
                f"sparkVersion {self.spark_version!r} is older than "
                f"{MIN_SPARK_VERSION[0]}.{MIN_SPARK_VERSION[1]}, the first runtime whose Kafka source takes a "
                "Unity Catalog service credential"
            )
        else:
            try:
                check_runtime(self.spark_version)
            except RuntimeMismatchError as exc:
                problems.append(f"sparkVersion: {exc}")
        if len(set(self.node_types)) != len(self.node_types):
            problems.append(f"nodeTypes has duplicates: {list(self.node_types)}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class StageComputeConfig(Section):
    """One stage's job cluster, overriding what the capacity model proposes (stack_config/capacity_model.py
    `stage_shapes`); each key left out is the model's. A maxWorkers below what the declared load needs is
    refused with the numbers."""

    node_type: AzureVmSize | None = None
    min_workers: int | None = Field(default=None, ge=1, le=100)
    max_workers: int | None = Field(default=None, ge=2, le=100)


class ComputeConfig(Section):
    """`databricks.compute`: the job clusters' shapes per stage and the spot choice (docs/capacity.md)."""

    # Workers on Azure spot VMs (SPOT_WITH_FALLBACK_AZURE: on-demand when spot capacity is short), the driver
    # always on demand (first_on_demand 1), never evicted on price (spot_bid_max_price -1). Off: all on demand.
    spot: bool = False
    bronze: StageComputeConfig = StageComputeConfig()
    silver: StageComputeConfig = StageComputeConfig()
    gold: StageComputeConfig = StageComputeConfig()


class GrantsConfig(Section):
    """Account groups and what each may do; every role is read-only or operational, none owns data."""

    # SELECT on gold only (reports, Power BI through SQL).
    consumers: tuple[GroupName, ...] = ()
    # SELECT on silver and gold.
    analysts: tuple[GroupName, ...] = ()
    # SELECT on bronze, silver and gold; may start clusters under the interactive cluster policy.
    engineers: tuple[GroupName, ...] = ()
    # May restart, pause and view the streaming jobs (CAN_MANAGE_RUN), nothing more.
    operators: tuple[GroupName, ...] = ()

    @model_validator(mode="after")
    def _named_groups_only(self) -> GrantsConfig:
        problems = []
        for role in ("consumers", "analysts", "engineers", "operators"):
            for group in getattr(self, role):
                if group.strip().lower() in BROAD_PRINCIPALS:
                    problems.append(
                        f"{role} must name a specific account group, not {group!r} "
                        f"(broad principals are never granted: {sorted(BROAD_PRINCIPALS)})"
                    )
        if problems:
            raise ValueError("; ".join(problems))
        return self


class AlertRule(Section):
    name: Slug
    metric: Slug  # a column of the gold metrics, e.g. "price_change_pct", "volume"
    operator: Literal[">", ">=", "<", "<="]
    threshold: float
    # Empty: every configured symbol.
    symbols: tuple[Symbol, ...] = ()


class StreamingConfig(Section):
    symbols: tuple[Symbol, ...] = Field(min_length=1)
    # How late an event may arrive and still count (silver de-duplication, gold windows).
    watermark: SparkInterval = "30 seconds"
    window: SparkInterval = "1 minute"
    alert_rules: tuple[AlertRule, ...] = ()
    # Where the bronze stream starts the very first time; afterwards its checkpoint decides.
    starting_offsets: Literal["earliest", "latest"] = "earliest"

    @model_validator(mode="after")
    def _consistent(self) -> StreamingConfig:
        problems = []
        if len(set(self.symbols)) != len(self.symbols):
            problems.append(f"symbols has duplicates: {list(self.symbols)}")
        names = [r.name for r in self.alert_rules]
        if len(set(names)) != len(names):
            problems.append(f"alertRules has duplicate names: {names}")
        for rule in self.alert_rules:
            unknown = [s for s in rule.symbols if s not in self.symbols]
            if unknown:
                problems.append(f"alertRules[{rule.name}].symbols {unknown} are not in symbols {list(self.symbols)}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


Weekday = Literal["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
ClockTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class RunWindowConfig(Section):
    """`databricks.jobs.runWindow`: the continuous streaming jobs run only inside this window (a cost guard
    rail for non-prod stacks). Jobs at `start` and `end` resume and pause them
    (streaming_jobs/jobs/run_window.py; docs/operations.md, "Run window")."""

    days: tuple[Weekday, ...] = Field(default=("MON", "TUE", "WED", "THU", "FRI"), min_length=1)
    start: ClockTime
    end: ClockTime
    # An IANA time zone (Jobs API schedule `timezone_id`, a Java time zone id).
    timezone: str = "UTC"

    @model_validator(mode="after")
    def _valid(self) -> RunWindowConfig:
        problems = []
        if len(set(self.days)) != len(self.days):
            problems.append(f"days has duplicates: {list(self.days)}")
        if self.start >= self.end:
            problems.append(f"start {self.start} must be before end {self.end} (a window within one day)")
        elif self.alert_hours() is None:
            problems.append(
                f"{self.start}-{self.end} holds no whole clock hour: the SQL alerts evaluate on whole hours "
                'inside the window (dashboards.alertIntervalMinutes; docs/operations.md, "Run window")'
            )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"timezone {self.timezone!r} is not an IANA time zone (e.g. Europe/Amsterdam)")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def cron(self, clock: str) -> str:
        """Quartz cron (Jobs API `schedule.quartz_cron_expression`) at `clock` on the window's days."""
        hours, minutes = clock.split(":")
        return f"0 {int(minutes)} {int(hours)} ? * {','.join(self.days)}"

    def alert_hours(self) -> tuple[int, int] | None:
        """The first and last whole clock hour inside the window (07:00-19:00: 7 and 18; 07:30-19:15: 8 and
        18), or None when it holds none. Quartz cron has no minute-precise range across hours, so the
        SQL alerts evaluate from the first whole hour to the last hour that ends inside the window."""
        start_h, start_m = (int(x) for x in self.start.split(":"))
        end_h, _ = (int(x) for x in self.end.split(":"))
        first = start_h + (1 if start_m else 0)
        last = end_h - 1
        return (first, last) if first <= last else None

    def alert_cron(self, interval_minutes: int) -> str:
        """Quartz cron (AlertV2 `schedule.quartz_cron_schedule`): every `interval_minutes` in the window's
        whole hours on its days, in its time zone. Outside the window the jobs are paused and gold does not
        move, so the alerts stay quiet and the SQL warehouse can auto-stop."""
        hours = self.alert_hours()
        if hours is None:  # refused by the validator
            raise ValueError(f"run window {self.start}-{self.end} holds no whole clock hour")
        first, last = hours
        span = str(first) if first == last else f"{first}-{last}"
        return f"0 0/{interval_minutes} {span} ? * {','.join(self.days)}"


class JobsConfig(Section):
    # Who hears about a failed run; at least one address, so a dead stream is never silent.
    failure_emails: tuple[Email, ...] = Field(min_length=1)
    # Non-prod only: the continuous jobs run inside this window and are paused outside it.
    run_window: RunWindowConfig | None = None
    # Refused when set (kept only to say why): the streaming jobs are one-task continuous jobs, which take
    # no task retry policy; the continuous trigger restarts a failed run with exponential back-off.
    max_retries: int | None = None
    min_retry_interval_seconds: int | None = None

    @model_validator(mode="after")
    def _no_dead_retry_knobs(self) -> JobsConfig:
        dead = [
            key
            for key, value in (
                ("maxRetries", self.max_retries),
                ("minRetryIntervalSeconds", self.min_retry_interval_seconds),
            )
            if value is not None
        ]
        if dead:
            raise ValueError(
                f"{', '.join('databricks.jobs.' + k for k in dead)} would have no effect: a continuous job takes no "
                "task retry policy, and its one task is never retried (task_retry_mode ON_FAILURE needs another "
                "running task); the continuous trigger restarts a failed run with exponential back-off. Remove it"
            )
        return self


class DatabricksConfig(Section):
    """`rta-platform:databricks`: workspace, Unity Catalog, runtime guard rails, streaming jobs."""

    # The region's existing Unity Catalog metastore (account console > Catalog); assigned, never created.
    metastore_id: Uuid
    # Object id of the "AzureDatabricks" enterprise application (app id
    # 2ff814a6-3304-4ab8-85cb-cd0e6f879c1d) in this tenant: it reads the Key Vault-backed
    # secret scope and, with customer-managed keys, unwraps the managed-services key.
    azure_databricks_app_object_id: Uuid
    provider_auth: DatabricksAuth = DatabricksAuth.GITHUB_OIDC_AZURE
    # The Databricks account (account console, top right). With it, the metastore assignment and the
    # deployer's workspace admin go through the account API (docs/first-deploy.md, step 4).
    account_id: Uuid | None = None
    deployer: DeployerConfig | None = None
    metastore_assignment: MetastoreAssignment = MetastoreAssignment.CREATE
    # Default: "<namePrefix>_<environment>".
    catalog_name: CatalogName | None = None
    # Explicit, named convenience (dev only): the workspace UI/API answers on the internet,
    # restricted to publicFrontEndAllowedIps. The back end stays private either way.
    allow_public_front_end: bool = False
    public_front_end_allowed_ips: tuple[str, ...] = ()
    # Customer-managed key for the DBFS root too. Two-phase (see docs/databricks.md): the
    # workspace must exist with prepareEncryption before its storage identity can be granted.
    encrypt_dbfs_root: bool = False
    # The explicit, named phase that lets prod run with the DBFS root not yet under the CMK:
    # "prepare" is the first deploy (the workspace is created with prepareEncryption).
    dbfs_root_key_phase: Literal["prepare"] | None = None
    personal_access_tokens: PersonalAccessTokensConfig = PersonalAccessTokensConfig()
    # Workspace admins may only run jobs as service principals they hold the User role on.
    restrict_workspace_admins: bool = True
    cluster_policy: ClusterPolicyConfig = ClusterPolicyConfig()
    compute: ComputeConfig = ComputeConfig()
    grants: GrantsConfig = GrantsConfig()
    jobs: JobsConfig
    streaming: StreamingConfig

    @model_validator(mode="after")
    def _front_end(self) -> DatabricksConfig:
        problems: list[str] = []
        if self.allow_public_front_end and not self.public_front_end_allowed_ips:
            problems.append("publicFrontEndAllowedIps must list the CIDRs allowed in when allowPublicFrontEnd is true")
        if not self.allow_public_front_end and self.public_front_end_allowed_ips:
            problems.append("publicFrontEndAllowedIps is only valid with allowPublicFrontEnd true")
        if (self.account_id is None) != (self.deployer is None):
            problems.append(
                "databricks.accountId and databricks.deployer go together: the deployer is made workspace admin "
                "through that account"
            )
        if self.provider_auth is DatabricksAuth.GITHUB_OIDC_AZURE and self.deployer is None:
            problems.append(
                "databricks.accountId and databricks.deployer are required with providerAuth 'github-oidc-azure': "
                "that auth sends no Azure management token, so the deploying service principal is not made "
                "workspace admin on its first call; the stack makes it admin through the account first "
                "(docs/first-deploy.md, step 4)"
            )
        for cidr in self.public_front_end_allowed_ips:
            try:
                net = ipaddress.ip_network(cidr, strict=True)
            except ValueError as exc:
                problems.append(f"publicFrontEndAllowedIps entry {cidr!r} is not a CIDR network ({exc})")
                continue
            if net.prefixlen == 0:
                problems.append(f"publicFrontEndAllowedIps entry {cidr!r} opens the workspace to the whole internet")
        problems += self._compute_problems()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _compute_problems(self) -> list[str]:
        """Each stage's override must fit the job cluster policy, which the cluster is created under."""
        policy, problems = self.cluster_policy, []
        for stage in ("bronze", "silver", "gold"):
            o: StageComputeConfig = getattr(self.compute, stage)
            key = f"compute.{stage}"
            if o.node_type is not None and o.node_type not in policy.node_types:
                problems.append(
                    f"{key}.nodeType {o.node_type!r} is not one of clusterPolicy.nodeTypes {list(policy.node_types)} "
                    "(the job policy allows only those)"
                )
            if o.max_workers is not None and o.max_workers > policy.max_workers:
                problems.append(
                    f"{key}.maxWorkers {o.max_workers} exceeds clusterPolicy.maxWorkers {policy.max_workers} "
                    "(the job policy caps autoscaling there)"
                )
            if o.min_workers is not None and o.max_workers is not None and o.min_workers >= o.max_workers:
                problems.append(
                    f"{key}.minWorkers {o.min_workers} must be below {key}.maxWorkers {o.max_workers} "
                    "(Databricks autoscaling needs max_workers strictly greater than min_workers)"
                )
        return problems

    def environment_problems(self, *, is_prod: bool, customer_managed_keys: bool = False) -> list[str]:
        """Rules that need the environment or other sections; StackConfig calls this (keys are fully named)."""
        problems = []
        if self.encrypt_dbfs_root and not customer_managed_keys:
            problems.append("databricks.encryptDbfsRoot needs encryption.customerManagedKeys true")
        if self.encrypt_dbfs_root and self.dbfs_root_key_phase is not None:
            problems.append(
                f"databricks.dbfsRootKeyPhase {self.dbfs_root_key_phase!r} names the phase before "
                "encryptDbfsRoot; remove it now that encryptDbfsRoot is true"
            )
        if not is_prod:
            return problems
        if customer_managed_keys and not self.encrypt_dbfs_root and self.dbfs_root_key_phase is None:
            problems.append(
                "databricks.encryptDbfsRoot is false in prod without a named phase: set it true, or, for the first "
                "deploy only, databricks.dbfsRootKeyPhase: prepare (docs/databricks.md, DBFS root CMK)"
            )
        if self.allow_public_front_end:
            problems.append("databricks.allowPublicFrontEnd must be false in prod")
        if self.personal_access_tokens.enabled:
            problems.append("databricks.personalAccessTokens.enabled must be false in prod")
        if self.provider_auth is DatabricksAuth.AZURE_CLI:
            problems.append(
                "databricks.providerAuth 'azure-cli' is for a developer's dev stack; prod deploys from its runner "
                f"with one of {[a.value for a in DatabricksAuth if a is not DatabricksAuth.AZURE_CLI]}"
            )
        if not self.restrict_workspace_admins:
            problems.append("databricks.restrictWorkspaceAdmins must be true in prod")
        if self.jobs.run_window is not None:
            problems.append(
                "databricks.jobs.runWindow pauses the streaming jobs outside a window: prod streams always "
                "(operations.slo freshness); remove it from the prod stack"
            )
        return problems

    def catalog(self, name_prefix: str, environment: str) -> str:
        name = self.catalog_name or f"{name_prefix}_{environment}"
        if not re.fullmatch(r"^[a-z][a-z0-9_]{1,62}$", name):
            raise ValueError(f"derived catalog name {name!r} is not a valid Unity Catalog identifier")
        return name
