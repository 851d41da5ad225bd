"""Runtime guard rails and the streaming jobs the stack deploys and keeps running.

`DatabricksRuntime` is what every workload in the workspace runs under: cluster
policies (pinned runtime, Unity Catalog access mode, capped autoscaling,
on-demand nodes, fixed tags; auto-termination for interactive clusters), the
service principal the jobs run as, a Key Vault-backed secret scope, and
workspace settings (no or short-lived personal access tokens, no result
downloads or exports, verbose audit logs, legacy DBFS/Hive access off, admins
restricted).

`StreamingJobs` uploads the `streaming_jobs` package as workspace files and
defines one continuous job per entry of `streaming_jobs/manifest.py` (JOBS), the
on-demand runtime smoke job and the nightly Delta maintenance job:

* every uploaded file carries its content hash (`md5`) as an input, so a
  changed file is re-uploaded and an unchanged one is not; the package hash
  is a job tag, so a code change updates the jobs and `control_run_state`
  restarts their active runs on the new code;
* checkpoints are keyed by stack, job and query --
  `abfss://checkpoints@<account>.dfs.core.windows.net/<stack>/<job>/<query>` --
  never by code version or deploy, so a restart resumes where the stream
  stopped (docs/databricks.md says how to reset one deliberately).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pulumi
import pulumi_databricks as dbx

from components.base import CommonArgs, ProviderScopedComponent
from components.ingestion import KafkaAuthMode, KafkaSource
from streaming_jobs.manifest import JOBS, MAINTENANCE_JOB, RUN_WINDOW_JOB, SMOKE_JOB, JobSpec
from streaming_jobs.runtime import SPARK_SEMANTICS, STATEFUL_CLUSTER_CONF

PACKAGE = "streaming_jobs"
# What is uploaded from the package: code, SQL migrations and small config files, never tests or caches.
UPLOAD_SUFFIXES = (".py", ".json", ".sql")
_SKIP_PARTS = ("__pycache__", "tests", "test")


# ----------------------------------------------------------------------------- runtime


@dataclass(frozen=True)
class ClusterLimits:
    spark_version: str
    node_types: Sequence[str]
    min_workers: int
    max_workers: int
    autotermination_minutes: int
    # Workers on spot VMs, drivers on demand (`databricks.compute.spot`; docs/capacity.md, "Spot").
    spot: bool = False


# Azure availability and its companions (Clusters API AzureAttributes; Databricks SDK jobs AzureAvailability):
# SPOT_WITH_FALLBACK_AZURE takes spot VMs and falls back to on-demand ones when Azure has no spot capacity;
# first_on_demand 1 puts the first node, the driver, on demand (the API says it "should be greater than 0, to
# make sure the cluster driver node is placed on an on-demand instance"); spot_bid_max_price -1 means "cannot
# be evicted on the basis of price" (only for capacity).
ON_DEMAND = "ON_DEMAND_AZURE"
SPOT_WITH_FALLBACK = "SPOT_WITH_FALLBACK_AZURE"
SPOT_FIRST_ON_DEMAND = 1
SPOT_BID_MAX_PRICE = -1.0


def azure_attributes(spot: bool) -> dbx.JobJobClusterNewClusterAzureAttributesArgs:
    if not spot:
        return dbx.JobJobClusterNewClusterAzureAttributesArgs(availability=ON_DEMAND)
    return dbx.JobJobClusterNewClusterAzureAttributesArgs(
        availability=SPOT_WITH_FALLBACK, first_on_demand=SPOT_FIRST_ON_DEMAND, spot_bid_max_price=SPOT_BID_MAX_PRICE
    )


@dataclass(frozen=True)
class ClusterShape:
    """One job's cluster: worker node type (the driver too) and autoscaling bounds; the engine and state
    store follow from its manifest entry (JobSpec.photon, JobSpec.stateful)."""

    node_type: str
    min_workers: int
    max_workers: int


@dataclass(frozen=True)
class DatabricksRuntimeArgs:
    common: CommonArgs
    provider: dbx.Provider
    # Prefix for object names in the workspace, e.g. "rta-dev".
    object_prefix: str
    limits: ClusterLimits
    key_vault_id: pulumi.Input[str]
    key_vault_uri: pulumi.Input[str]
    personal_access_tokens: bool = False
    pat_max_lifetime_days: int = 7
    restrict_workspace_admins: bool = True
    # Groups that may start interactive clusters under the interactive policy.
    engineers: Sequence[str] = ()
    # Only with a public front end: the CIDRs allowed in (IP access list).
    public_front_end_allowed_ips: Sequence[str] = ()
    # The Databricks account id and the application (client) id of the identity that runs `pulumi up`:
    # it gets the Service Principal User role on the jobs' principal, which `run_as` requires.
    account_id: str | None = None
    deployer_application_id: pulumi.Input[str] | None = None
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


# The account-level roles on a service principal (docs: "Roles for managing service principals").
SP_USER_ROLE = "roles/servicePrincipal.user"
SP_MANAGER_ROLE = "roles/servicePrincipal.manager"


def cluster_policy_definition(limits: ClusterLimits, tags: Mapping[str, str], *, interactive: bool) -> dict[str, Any]:
    """A policy definition: runtime pinned, Unity Catalog access mode forced, size capped, tags fixed, and the
    Spark semantics the jobs are tested with (ANSI mode, ...: streaming_jobs/runtime.py) fixed, so a notebook
    on an interactive cluster computes what the jobs compute."""
    nodes = list(limits.node_types)
    definition: dict[str, Any] = {
        "cluster_type": {"type": "fixed", "value": "all-purpose" if interactive else "job"},
        "spark_version": {"type": "fixed", "value": limits.spark_version},
        # Dedicated (single user) for jobs; shared clusters may use standard (user isolation).
        "data_security_mode": {
            "type": "allowlist",
            "values": ["USER_ISOLATION", "SINGLE_USER"],
            "defaultValue": "USER_ISOLATION",
        }
        if interactive
        else {"type": "fixed", "value": "SINGLE_USER"},
        "node_type_id": {"type": "allowlist", "values": nodes, "defaultValue": nodes[0]},
        "driver_node_type_id": {"type": "allowlist", "values": nodes, "defaultValue": nodes[0]},
        "autoscale.min_workers": {
            "type": "range",
            "minValue": 1,
            "maxValue": limits.max_workers,
            "defaultValue": limits.min_workers,
        },
        "autoscale.max_workers": {
            "type": "range",
            "minValue": 1,
            "maxValue": limits.max_workers,
            "defaultValue": limits.max_workers,
        },
        "num_workers": {"type": "range", "minValue": 0, "maxValue": limits.max_workers},
        "docker_image.url": {"type": "forbidden"},
    }
    # The stack's spot choice, fixed for every cluster under the policy: all on demand, or spot workers with an
    # on-demand driver that is never evicted on price (docs/capacity.md, "Spot").
    if limits.spot:
        definition["azure_attributes.availability"] = {"type": "fixed", "value": SPOT_WITH_FALLBACK}
        definition["azure_attributes.first_on_demand"] = {"type": "fixed", "value": SPOT_FIRST_ON_DEMAND}
        definition["azure_attributes.spot_bid_max_price"] = {"type": "fixed", "value": SPOT_BID_MAX_PRICE}
    else:
        definition["azure_attributes.availability"] = {"type": "fixed", "value": ON_DEMAND}
    if interactive:
        definition["autotermination_minutes"] = {
            "type": "range",
            "minValue": 10,
            "maxValue": limits.autotermination_minutes,
            "defaultValue": limits.autotermination_minutes,
        }
    for key, value in sorted(tags.items()):
        definition[f"custom_tags.{key}"] = {"type": "fixed", "value": value}
    for key, value in sorted(SPARK_SEMANTICS.items()):
        definition[f"spark_conf.{key}"] = {"type": "fixed", "value": value}
    return definition


class DatabricksRuntime(ProviderScopedComponent):
    """`job_policy`, `interactive_policy`, `service_principal`, `secret_scope`, `workspace_conf`."""

    def __init__(self, name: str, args: DatabricksRuntimeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("DatabricksRuntime", name, args.common, args.provider, opts)
        after_workspace = list(args.depends_on)
        prefix = args.object_prefix

        # A Databricks-managed service principal: no Entra secret to rotate, nothing to leak. It runs the
        # streaming jobs and the SQL alerts; alerts evaluate on the SQL warehouse, which needs the
        # Databricks SQL access entitlement (docs.databricks.com/api/workspace/serviceprincipals).
        self.service_principal = dbx.ServicePrincipal(
            f"{name}-jobs-sp",
            display_name=f"{prefix}-streaming-jobs",
            allow_cluster_create=False,
            allow_instance_pool_create=False,
            databricks_sql_access=True,
            opts=self._db_opts(after_workspace),
        )
        self.application_id: pulumi.Output[str] = self.service_principal.application_id
        self.run_as_rule_set = self._run_as_rule_set(name, args)
        # What `run_as` takes: the application id, carrying the rule set as a dependency, so every job or
        # alert that runs as the principal is created only after the deployer may set it.
        self.run_as: pulumi.Output[str] = (
            pulumi.Output.all(self.application_id, self.run_as_rule_set.id).apply(lambda ids: str(ids[0]))
            if self.run_as_rule_set is not None
            else self.application_id
        )

        self.job_policy = dbx.ClusterPolicy(
            f"{name}-policy-jobs",
            name=f"{prefix}-streaming-jobs",
            description="Job clusters of the streaming jobs: pinned runtime, dedicated UC access, capped size",
            definition=json.dumps(cluster_policy_definition(args.limits, self.tags, interactive=False), sort_keys=True),
            opts=self._db_opts(after_workspace),
        )
        self.interactive_policy = dbx.ClusterPolicy(
            f"{name}-policy-interactive",
            name=f"{prefix}-interactive",
            description="Interactive clusters: pinned runtime, UC access modes, capped size, auto-termination",
            definition=json.dumps(cluster_policy_definition(args.limits, self.tags, interactive=True), sort_keys=True),
            max_clusters_per_user=1,
            opts=self._db_opts(after_workspace),
        )
        dbx.Permissions(
            f"{name}-policy-jobs-permissions",
            cluster_policy_id=self.job_policy.id,
            access_controls=[
                dbx.PermissionsAccessControlArgs(service_principal_name=self.application_id, permission_level="CAN_USE")
            ],
            opts=self._db_opts([self.job_policy]),
        )
        self.grant_groups(
            f"{name}-policy-interactive-permissions",
            self.interactive_policy,
            args.engineers,
            "CAN_USE",
            cluster_policy_id=self.interactive_policy.id,
        )

        # Secrets stay in the platform Key Vault; the scope only reads them (as the AzureDatabricks app).
        self.secret_scope = dbx.SecretScope(
            f"{name}-secret-scope",
            name=f"{prefix}-keyvault",
            backend_type="AZURE_KEYVAULT",
            keyvault_metadata=dbx.SecretScopeKeyvaultMetadataArgs(
                resource_id=args.key_vault_id, dns_name=args.key_vault_uri
            ),
            opts=self._db_opts(after_workspace),
        )
        self.secret_scope_name: pulumi.Output[str] = self.secret_scope.name
        dbx.SecretAcl(
            f"{name}-secret-scope-jobs-read",
            scope=self.secret_scope.name,
            principal=self.application_id,
            permission="READ",
            opts=self._db_opts([self.secret_scope]),
        )

        conf: dict[str, str] = {
            "enableTokensConfig": "true" if args.personal_access_tokens else "false",
            "enableResultsDownloading": "false",
            "enableExportNotebook": "false",
            "enableNotebookTableClipboard": "false",
            "enableDbfsFileBrowser": "false",
            "enableVerboseAuditLogs": "true",
            "enableIpAccessLists": "true" if args.public_front_end_allowed_ips else "false",
        }
        if args.personal_access_tokens:
            conf["maxTokenLifetimeDays"] = str(args.pat_max_lifetime_days)
        self.workspace_conf = dbx.WorkspaceConf(
            f"{name}-workspace-conf", custom_config=conf, opts=self._db_opts(after_workspace)
        )
        if args.public_front_end_allowed_ips:
            dbx.IpAccessList(
                f"{name}-ip-allow",
                label="public-front-end",
                list_type="ALLOW",
                ip_addresses=list(args.public_front_end_allowed_ips),
                enabled=True,
                opts=self._db_opts([self.workspace_conf]),
            )
        dbx.DisableLegacyDbfsSetting(
            f"{name}-disable-legacy-dbfs",
            disable_legacy_dbfs=dbx.DisableLegacyDbfsSettingDisableLegacyDbfsArgs(value=True),
            opts=self._db_opts(after_workspace),
        )
        dbx.DisableLegacyAccessSetting(
            f"{name}-disable-legacy-access",
            disable_legacy_access=dbx.DisableLegacyAccessSettingDisableLegacyAccessArgs(value=True),
            opts=self._db_opts(after_workspace),
        )
        if args.restrict_workspace_admins:
            dbx.RestrictWorkspaceAdminsSetting(
                f"{name}-restrict-admins",
                restrict_workspace_admins=dbx.RestrictWorkspaceAdminsSettingRestrictWorkspaceAdminsArgs(
                    status="RESTRICT_TOKENS_AND_JOB_RUN_AS"
                ),
                opts=self._db_opts(after_workspace),
            )

        self.register_outputs(
            {
                "service_principal_application_id": self.application_id,
                "job_policy_id": self.job_policy.id,
                "interactive_policy_id": self.interactive_policy.id,
                "secret_scope": self.secret_scope.name,
            }
        )

    def _run_as_rule_set(self, name: str, args: DatabricksRuntimeArgs) -> dbx.AccessControlRuleSet | None:
        """The deployer's Service Principal User role on the jobs' principal, before any `run_as` names it.

        Setting a job's (or alert's) `run_as` to a service principal requires the caller to hold
        `roles/servicePrincipal.user` on it; with RestrictWorkspaceAdmins even a workspace admin needs it
        (docs.databricks.com/admin/users-groups/service-principals "roles for managing service principals";
        learn.microsoft.com/azure/databricks/admin/workspace-settings/restrict-workspace-admins). The rule set
        is authoritative (databricks/terraform-provider-databricks docs/resources/access_control_rule_set.md),
        so it also keeps the deployer's Manager role, which the creator of a service principal holds.
        It goes through the workspace provider ("can be used with an account or workspace-level provider").
        """
        if args.account_id is None or args.deployer_application_id is None:
            return None
        deployer = pulumi.Output.concat("servicePrincipals/", args.deployer_application_id)
        return dbx.AccessControlRuleSet(
            f"{name}-jobs-sp-rule-set",
            name=pulumi.Output.concat(
                "accounts/", args.account_id, "/servicePrincipals/", self.application_id, "/ruleSets/default"
            ),
            grant_rules=[
                dbx.AccessControlRuleSetGrantRuleArgs(role=SP_MANAGER_ROLE, principals=[deployer]),
                dbx.AccessControlRuleSetGrantRuleArgs(role=SP_USER_ROLE, principals=[deployer]),
            ],
            opts=self._db_opts([self.service_principal]),
        )


# ----------------------------------------------------------------------------- uploads


@dataclass(frozen=True)
class PackageFile:
    relative_path: str  # from the repository root, "/"-separated: "streaming_jobs/entrypoints/run_job.py"
    md5: str


def package_files(source_root: Path, package: str = PACKAGE) -> list[PackageFile]:
    """The files of the job package that are uploaded, with their content hashes, in a stable order."""
    base = source_root / package
    if not base.is_dir():
        raise FileNotFoundError(f"job package {base} does not exist")
    found = []
    for path in sorted(base.rglob("*")):
        rel = path.relative_to(source_root)
        if not path.is_file() or path.suffix not in UPLOAD_SUFFIXES:
            continue
        if any(part in _SKIP_PARTS or part.startswith(".") for part in rel.parts):
            continue
        found.append(PackageFile(rel.as_posix(), hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()))
    return found


def package_hash(files: Sequence[PackageFile]) -> str:
    """One hash over every uploaded file's path and content: changes when any file does."""
    digest = hashlib.sha256()
    for f in files:
        digest.update(f"{f.relative_path}\0{f.md5}\n".encode())
    return digest.hexdigest()


def deployable_jobs(source_root: Path, jobs: Mapping[str, JobSpec] = JOBS) -> dict[str, JobSpec]:
    """The manifest's jobs, once their code exists.

    Bootstrap only: while the package has none of its entry files yet, no job is
    defined (with a warning). As soon as one exists, all must: a missing entry file
    is an error, never a silently dropped (and so deleted) job.
    """
    present = {k for k, s in jobs.items() if (source_root / s.entry_file).is_file()}
    if not present:
        pulumi.log.warn(
            f"streaming jobs not defined: none of their entry files exist yet "
            f"({sorted(s.entry_file for s in jobs.values())})"
        )
        return {}
    missing = {k: s.entry_file for k, s in jobs.items() if k not in present}
    if missing:
        raise FileNotFoundError(f"entry files of jobs {sorted(missing)} are missing: {missing}")
    return dict(jobs)


# ----------------------------------------------------------------------------- jobs


@dataclass(frozen=True)
class StreamingParams:
    symbols: Sequence[str]
    watermark: str
    window: str
    alert_rules: Sequence[Mapping[str, Any]]
    starting_offsets: str = "earliest"
    # From the capacity model (stack_config/capacity_model.py `triggers`, docs/capacity.md): bronze's cap on
    # records per micro-batch and the jobs' trigger interval (None: Spark's default, back to back).
    max_offsets_per_trigger: int | None = None
    trigger_interval: str | None = None


# Nightly at 02:30 UTC (Quartz: seconds minutes hours day-of-month month day-of-week).
MAINTENANCE_CRON = "0 30 2 * * ?"


@dataclass(frozen=True)
class MaintenanceParams:
    """The Delta maintenance job's settings (streaming_jobs/maintenance.py, docs/capacity.md)."""

    hot_days: int
    cold_days: int
    vacuum_hours: int
    # The trades stream's retention on the broker; 0: kept forever.
    stream_retention_hours: int
    # Quartz cron expression, evaluated in UTC (Jobs API `schedule`).
    cron: str = MAINTENANCE_CRON


@dataclass(frozen=True)
class RunWindowParams:
    """When the continuous jobs run (`databricks.jobs.runWindow`): Quartz crons of its start and end."""

    open_cron: str
    close_cron: str
    timezone: str


@dataclass(frozen=True)
class StreamingJobsArgs:
    common: CommonArgs
    provider: dbx.Provider
    runtime: DatabricksRuntime
    # The repository root holding the `streaming_jobs` package (the stack program's directory).
    source_root: Path
    object_prefix: str  # job names "<prefix>-<job>"
    catalog: pulumi.Input[str]
    schemas: Mapping[str, pulumi.Input[str]]  # bronze / silver / gold
    # abfss://checkpoints@<account>.dfs.core.windows.net/<stack>; jobs get <base>/<job>.
    checkpoint_base: str
    kafka: KafkaSource
    streaming: StreamingParams
    failure_emails: Sequence[str]
    limits: ClusterLimits
    # Unity Catalog service credential of the processor identity (Event Hubs with Entra ID, Azure SQL).
    service_credential: pulumi.Input[str] | None = None
    # Azure SQL serving target for gold (optional until the serving layer exists).
    sql_server: pulumi.Input[str] | None = None
    sql_database: pulumi.Input[str] | None = None
    # The gold job's start-up migration step: "apply" where its database user may run DDL (dev), "verify"
    # where an admin applies migrations and the job only checks them (prod, docs/serving.md). Always passed,
    # so the job's own default never decides.
    sql_migrate: Literal["apply", "verify", "off"] = "verify"
    operators: Sequence[str] = ()  # CAN_MANAGE_RUN
    viewers: Sequence[str] = ()  # CAN_VIEW
    jobs: Mapping[str, JobSpec] = field(default_factory=lambda: dict(JOBS))
    # Each job's cluster by job key (stages sized by the capacity model: layers/processing.py); a job without
    # one runs on the policy's default shape. The smoke job takes silver's (it runs silver's and gold's code).
    clusters: Mapping[str, ClusterShape] = field(default_factory=dict)
    # The on-demand runtime smoke job, defined beside the streaming jobs (never without them); it needs
    # schemas["smoke"], a scratch schema it creates and drops its tables in.
    smoke: JobSpec | None = SMOKE_JOB
    # The scheduled Delta maintenance job, defined beside the streaming jobs (never without them).
    maintenance: MaintenanceParams | None = None
    maintenance_job: JobSpec = MAINTENANCE_JOB
    # Non-prod: the continuous jobs run only inside this window (streaming_jobs/jobs/run_window.py).
    run_window: RunWindowParams | None = None
    run_window_job: JobSpec = RUN_WINDOW_JOB
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)
    # Health of each continuous job (operations, docs/operations.md): STREAMING_BACKLOG_SECONDS above
    # this mails `backlog_emails`. None: no health rule.
    backlog_seconds: int | None = None
    backlog_emails: Sequence[str] = ()


def job_health(args: StreamingJobsArgs) -> dbx.JobHealthArgs | None:
    """The continuous jobs' streaming-backlog rule.

    Jobs API (docs.databricks.com/api/workspace/jobs/create, `health.rules`, and
    `email_notifications.on_streaming_backlog_exceeded`): metric STREAMING_BACKLOG_SECONDS (the maximum
    consumer delay across the job's streams), op GREATER_THAN only; alerting uses the metric's 10-minute
    average and re-notifies every 30 minutes while it persists.
    """
    if args.backlog_seconds is None:
        return None
    return dbx.JobHealthArgs(
        rules=[dbx.JobHealthRuleArgs(metric="STREAMING_BACKLOG_SECONDS", op="GREATER_THAN", value=args.backlog_seconds)]
    )


def job_cluster(args: StreamingJobsArgs, runtime: DatabricksRuntime, spec: JobSpec) -> dbx.JobJobClusterArgs:
    """The job's cluster under the job policy: pinned runtime, dedicated access, its shape (node type and
    autoscaling bounds), the semantics the tests run with as spark_conf (streaming_jobs/runtime.py), the RocksDB
    state store when it keeps state, Photon only where the manifest says it pays (runtime_engine is always
    explicit: the Jobs API leaves Photon off unless asked, and a policy could default it), and the spot choice."""
    default = ClusterShape(args.limits.node_types[0], args.limits.min_workers, args.limits.max_workers)
    shape = args.clusters.get(spec.key) or (args.clusters.get("silver") if spec.stateful else None) or default
    return dbx.JobJobClusterArgs(
        job_cluster_key="stream",
        new_cluster=dbx.JobJobClusterNewClusterArgs(
            policy_id=runtime.job_policy.id,
            apply_policy_default_values=True,
            spark_version=args.limits.spark_version,
            runtime_engine="PHOTON" if spec.photon else "STANDARD",
            node_type_id=shape.node_type,
            driver_node_type_id=shape.node_type,
            autoscale=dbx.JobJobClusterNewClusterAutoscaleArgs(
                min_workers=shape.min_workers, max_workers=shape.max_workers
            ),
            data_security_mode="SINGLE_USER",
            spark_conf={**SPARK_SEMANTICS, **(STATEFUL_CLUSTER_CONF if spec.stateful else {})},
            azure_attributes=azure_attributes(args.limits.spot),
        ),
    )


class StreamingJobs(ProviderScopedComponent):
    """`files[relative_path]`, `jobs[key]`, `checkpoint_roots[key]`, `code_hash`."""

    def __init__(self, name: str, args: StreamingJobsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("StreamingJobs", name, args.common, args.provider, opts)
        runtime = args.runtime
        files = package_files(args.source_root)
        self.code_hash = package_hash(files)
        uploaded = {f.relative_path for f in files}
        missing = {k: s.entry_file for k, s in args.jobs.items() if s.entry_file not in uploaded}
        if missing:
            raise ValueError(
                f"{name}: entry files of jobs {sorted(missing)} are not in the uploaded package: {missing} "
                f"(uploaded: {sorted(uploaded)})"
            )

        # The jobs' service principal's home folder: only it and workspace admins can touch the code
        # its jobs run (unlike /Shared, where every user may edit).
        self.upload_root: pulumi.Output[str] = runtime.service_principal.home.apply(
            lambda home: f"{home.rstrip('/')}/rta-platform"
        )
        # Created explicitly (with its parents): the service principal's home may not exist before its first login.
        self.directory = dbx.Directory(
            f"{name}-code-directory",
            path=self.upload_root,
            opts=self._db_opts([runtime.service_principal, *args.depends_on]),
        )
        self.files: dict[str, dbx.WorkspaceFile] = {}
        for f in files:
            self.files[f.relative_path] = dbx.WorkspaceFile(
                f"{name}-file-{f.relative_path.removesuffix('.py').replace('/', '-')}",
                path=pulumi.Output.concat(self.upload_root, "/", f.relative_path),
                # Relative to the project directory, so the input is the same on every runner.
                source=f.relative_path,
                md5=f.md5,
                opts=self._db_opts([self.directory]),
            )

        self.jobs: dict[str, dbx.Job] = {}
        self.checkpoint_roots: dict[str, str] = {}
        for key, spec in args.jobs.items():
            checkpoint_root = f"{args.checkpoint_base.rstrip('/')}/{key}"
            self.checkpoint_roots[key] = checkpoint_root
            params = self._parameters(name, spec, args, checkpoint_root)
            entry = self.files[spec.entry_file]
            self.jobs[key] = dbx.Job(
                f"{name}-{key}",
                name=f"{args.object_prefix}-{key}",
                description=spec.description,
                # No task retry policy: a continuous job cannot use one, and `task_retry_mode: ON_FAILURE`
                # retries a task only while another task of the run is on its first attempt, never in a
                # one-task job. A failed run is restarted by the continuous trigger, with exponential
                # back-off (learn.microsoft.com/azure/databricks/jobs/continuous; terraform-provider-databricks
                # docs/resources/job.md, continuous `task_retry_mode`). Each restart resumes from checkpoints.
                continuous=dbx.JobContinuousArgs(pause_status="UNPAUSED"),
                # A changed job (new code hash, parameters) restarts the active run on it.
                control_run_state=True,
                max_concurrent_runs=1,
                queue=dbx.JobQueueArgs(enabled=True),
                run_as=dbx.JobRunAsArgs(service_principal_name=runtime.run_as),
                email_notifications=dbx.JobEmailNotificationsArgs(
                    on_failures=list(args.failure_emails),
                    no_alert_for_skipped_runs=True,
                    on_streaming_backlog_exceededs=list(args.backlog_emails) or None,
                ),
                health=job_health(args),
                job_clusters=[job_cluster(args, runtime, spec)],
                tasks=[
                    dbx.JobTaskArgs(
                        task_key=key,
                        job_cluster_key="stream",
                        spark_python_task=dbx.JobTaskSparkPythonTaskArgs(
                            python_file=entry.workspace_path,
                            source="WORKSPACE",
                            parameters=spec.task_parameters(params),
                        ),
                        retry_on_timeout=False,
                    )
                ],
                tags={
                    **{k: v for k, v in self.tags.items() if k in ("project", "environment")},
                    "code_hash": self.code_hash[:16],
                },
                opts=self._db_opts(
                    [*self.files.values(), runtime.job_policy, *args.depends_on],
                    # With a run window the window's jobs own the pause status; an `up` must not flip it back.
                    ignore_changes=["continuous.pauseStatus"] if args.run_window is not None else None,
                ),
            )
            access = [
                dbx.PermissionsAccessControlArgs(group_name=g, permission_level="CAN_MANAGE_RUN")
                for g in args.operators
            ] + [dbx.PermissionsAccessControlArgs(group_name=g, permission_level="CAN_VIEW") for g in args.viewers]
            if args.run_window is not None:
                # The window's jobs (run as the jobs' principal) change the trigger: `jobs/update` needs CAN_MANAGE
                # (docs.databricks.com/security/auth/access-control/#job-acls). Non-prod only (config refuses prod).
                access.append(
                    dbx.PermissionsAccessControlArgs(
                        service_principal_name=runtime.application_id, permission_level="CAN_MANAGE"
                    )
                )
            if access:
                dbx.Permissions(
                    f"{name}-{key}-permissions",
                    job_id=self.jobs[key].id,
                    access_controls=access,
                    opts=self._db_opts([self.jobs[key]]),
                )

        self.smoke_job = self._smoke_job(name, args) if self.jobs and args.smoke is not None else None
        self.maintenance = (
            self._maintenance_job(name, args, args.maintenance) if self.jobs and args.maintenance is not None else None
        )
        self.run_window_jobs = (
            self._run_window_jobs(name, args, args.run_window) if self.jobs and args.run_window is not None else {}
        )
        self.job_ids: dict[str, pulumi.Output[str]] = {k: j.id for k, j in self.jobs.items()}
        for action, job in self.run_window_jobs.items():
            self.job_ids[f"{args.run_window_job.key}_{action}"] = job.id
        if self.smoke_job is not None and args.smoke is not None:
            self.job_ids[args.smoke.key] = self.smoke_job.id
        if self.maintenance is not None:
            self.job_ids[args.maintenance_job.key] = self.maintenance.id
        self.register_outputs(
            {"job_ids": self.job_ids, "code_hash": self.code_hash, "checkpoint_roots": self.checkpoint_roots}
        )

    def _smoke_job(self, name: str, args: StreamingJobsArgs) -> dbx.Job:
        """The runtime smoke job (streaming_jobs/jobs/smoke.py): no schedule, no retries, run on demand and by
        the deploy pipeline after `up` (tools/run_smoke_job.py). Same cluster as the streaming jobs."""
        spec = args.smoke
        assert spec is not None
        scratch = args.schemas.get("smoke")
        if scratch is None:
            raise ValueError(f"{name}: the runtime smoke job needs schemas['smoke'], a scratch schema")
        available: dict[str, pulumi.Input[str]] = {
            "--catalog": args.catalog,
            "--scratch-schema": scratch,
            "--checkpoint-root": f"{args.checkpoint_base.rstrip('/')}/{spec.key}",
        }
        return self._batch_job(name, args, spec, available, timeout_seconds=3600)

    def _maintenance_job(self, name: str, args: StreamingJobsArgs, m: MaintenanceParams) -> dbx.Job:
        """The Delta maintenance job (streaming_jobs/jobs/maintenance.py) on a Quartz schedule in UTC (Jobs API
        `schedule`: quartz_cron_expression, timezone_id, pause_status; docs.databricks.com/api/workspace/jobs/
        create). One run at a time; a failed run mails and is not retried: the next night repeats the whole,
        idempotent sequence. Bounded at 12 hours so a stuck run never overlaps the next two."""
        spec = args.maintenance_job
        available: dict[str, pulumi.Input[str]] = {
            "--catalog": args.catalog,
            "--bronze-schema": args.schemas["bronze"],
            "--silver-schema": args.schemas["silver"],
            "--gold-schema": args.schemas["gold"],
            "--hot-days": str(m.hot_days),
            "--cold-days": str(m.cold_days),
            "--vacuum-hours": str(m.vacuum_hours),
            "--stream-retention-hours": str(m.stream_retention_hours),
        }
        schedule = dbx.JobScheduleArgs(quartz_cron_expression=m.cron, timezone_id="UTC", pause_status="UNPAUSED")
        return self._batch_job(name, args, spec, available, timeout_seconds=12 * 3600, schedule=schedule)

    def _run_window_jobs(self, name: str, args: StreamingJobsArgs, window: RunWindowParams) -> dict[str, dbx.Job]:
        """Two scheduled jobs, at the window's start (`open`) and end (`close`), over the continuous jobs' ids.
        A `pulumi up` outside the window leaves the triggers as they are (ignore_changes); a new job starts
        unpaused and runs until the next close."""
        ids = pulumi.Output.all(*[j.id for j in self.jobs.values()]).apply(lambda v: ",".join(str(i) for i in v))
        jobs: dict[str, dbx.Job] = {}
        for action, cron in (("open", window.open_cron), ("close", window.close_cron)):
            schedule = dbx.JobScheduleArgs(
                quartz_cron_expression=cron, timezone_id=window.timezone, pause_status="UNPAUSED"
            )
            jobs[action] = self._batch_job(
                name,
                args,
                args.run_window_job,
                {"--action": action, "--job-ids": ids},
                timeout_seconds=1800,
                schedule=schedule,
                suffix=action,
            )
        return jobs

    def _batch_job(
        self,
        name: str,
        args: StreamingJobsArgs,
        spec: JobSpec,
        available: Mapping[str, pulumi.Input[str]],
        *,
        timeout_seconds: int,
        schedule: dbx.JobScheduleArgs | None = None,
        suffix: str = "",
    ) -> dbx.Job:
        """A one-task job that runs to completion (not continuous) on the streaming jobs' cluster and identity."""
        if spec.entry_file not in self.files:
            raise ValueError(f"{name}: the {spec.key} job's entry file {spec.entry_file} is not in the upload")
        missing = [p for p in spec.required_params if p not in available]
        if missing:
            raise ValueError(f"{name}: job {spec.key!r} requires {missing}, which the stack cannot fill")
        params: list[pulumi.Input[str]] = []
        for param in spec.required_params:
            params += [param, available[param]]
        runtime = args.runtime
        key = f"{spec.key}-{suffix}" if suffix else spec.key
        return dbx.Job(
            f"{name}-{key}",
            name=f"{args.object_prefix}-{key.replace('_', '-')}",
            description=spec.description,
            max_concurrent_runs=1,
            timeout_seconds=timeout_seconds,
            schedule=schedule,
            run_as=dbx.JobRunAsArgs(service_principal_name=runtime.run_as),
            email_notifications=dbx.JobEmailNotificationsArgs(
                on_failures=list(args.failure_emails), no_alert_for_skipped_runs=True
            ),
            job_clusters=[job_cluster(args, runtime, spec)],
            tasks=[
                dbx.JobTaskArgs(
                    task_key=spec.key,
                    job_cluster_key="stream",
                    spark_python_task=dbx.JobTaskSparkPythonTaskArgs(
                        python_file=self.files[spec.entry_file].workspace_path,
                        source="WORKSPACE",
                        parameters=spec.task_parameters(params),
                    ),
                    max_retries=0,
                )
            ],
            tags={
                **{k: v for k, v in self.tags.items() if k in ("project", "environment")},
                "code_hash": self.code_hash[:16],
            },
            opts=self._db_opts([*self.files.values(), runtime.job_policy, *args.depends_on]),
        )

    @staticmethod
    def _parameters(name: str, spec: JobSpec, args: StreamingJobsArgs, checkpoint_root: str) -> list[pulumi.Input[str]]:
        """The job's command line, filled from Pulumi outputs and config; checked against the manifest."""
        s = args.streaming
        available: dict[str, pulumi.Input[str] | None] = {
            "--catalog": args.catalog,
            "--bronze-schema": args.schemas["bronze"],
            "--silver-schema": args.schemas["silver"],
            "--gold-schema": args.schemas["gold"],
            # Every streaming job publishes its batches' metrics to gold's pipeline_metrics table.
            "--metrics-schema": args.schemas["gold"],
            "--checkpoint-root": checkpoint_root,
            "--kafka-bootstrap-servers": args.kafka.bootstrap_servers,
            "--kafka-topic": args.kafka.topic,
            "--kafka-auth": args.kafka.auth_mode.value,
            "--kafka-group-id-prefix": args.kafka.consumer_group_prefix,
            "--starting-offsets": s.starting_offsets,
            "--symbols": ",".join(s.symbols),
            "--watermark": s.watermark,
            "--window": s.window,
            "--alert-rules": json.dumps(list(s.alert_rules), sort_keys=True, separators=(",", ":")),
            "--sql-server": args.sql_server,
            "--sql-database": args.sql_database,
            "--sql-migrate": args.sql_migrate if args.sql_server is not None else None,
            "--max-offsets-per-trigger": str(s.max_offsets_per_trigger) if s.max_offsets_per_trigger else None,
            "--trigger-interval": s.trigger_interval,
        }
        available["--service-credential"] = args.service_credential
        if args.kafka.auth_mode is KafkaAuthMode.ENTRA_SERVICE_CREDENTIAL:
            if args.service_credential is None:
                raise ValueError(f"{name}: Kafka auth {args.kafka.auth_mode.value} needs a service credential")
        else:
            if not (args.kafka.api_key_secret_name and args.kafka.api_secret_secret_name):
                raise ValueError(f"{name}: Kafka auth {args.kafka.auth_mode.value} needs the API key secret names")
            available["--secret-scope"] = args.runtime.secret_scope_name
            available["--api-key-secret"] = args.kafka.api_key_secret_name
            available["--api-secret-secret"] = args.kafka.api_secret_secret_name
        missing = [p for p in spec.required_params if available.get(p) is None]
        if missing:
            raise ValueError(f"{name}: job {spec.key!r} requires {missing}, which the stack cannot fill")
        params: list[pulumi.Input[str]] = []
        for param in (*spec.required_params, *spec.optional_params):
            value = available.get(param)
            if value is not None:
                params += [param, value]
        return params
