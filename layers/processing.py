"""Storage and processing: the lake, then Databricks (workspace, runtime guard rails, Unity Catalog, jobs).

The lake comes first because ingestion's capture writes into it; the Databricks
part comes after ingestion and the SQL database, because the jobs read the one
and write the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from components.base import TYPE_PREFIX, RoleAssignmentArgs
from components.data_lake import DataLake, DataLakeArgs, LifecycleArgs, ResourceAccessArgs
from components.databricks_jobs import (
    ClusterLimits,
    ClusterShape,
    DatabricksRuntime,
    DatabricksRuntimeArgs,
    MaintenanceParams,
    RunWindowParams,
    StreamingJobs,
    StreamingJobsArgs,
    StreamingParams,
    deployable_jobs,
)
from components.databricks_workspace import (
    BROWSER_AUTH,
    UI_API,
    DatabricksWorkspace,
    DatabricksWorkspaceArgs,
    WorkspaceCmkArgs,
    WorkspaceNetworkArgs,
)
from components.ingestion import KafkaSource
from components.roles import BuiltInRole
from components.sql_serving import SqlServing
from components.unity_catalog import LOCATIONS, CatalogGroups, UnityCatalog
from components.unity_catalog import UnityCatalogArgs as CatalogArgs
from layers.foundation import Foundation
from layers.placement import Placement
from stack_config import StackConfig, capacity_model
from stack_config.capacity import RetentionConfig
from stack_config.databricks import DatabricksConfig, RunWindowConfig
from streaming_jobs.manifest import vacuum_hours_for


@dataclass(frozen=True)
class Storage:
    lake: DataLake

    @property
    def outputs(self) -> dict[str, Any]:
        return {"dataLakeAccountName": self.lake.account.name, "dataLakeDfsEndpoint": self.lake.dfs_endpoint}


def build_storage(
    config: StackConfig, place: Placement, foundation: Foundation, workspace: DatabricksWorkspace | None
) -> Storage:
    """ADLS Gen2 for the medallion layers: the processor reads and writes it, capture lands in it.

    With a workspace (None only without a databricks section), its access connector gets a resource instance
    rule on the lake: with public network access disabled, Unity Catalog reaches the lake as the connector only
    through one (see DataLakeArgs). No default: a caller that forgot it would drop the rule silently.
    """
    lake_config = config.data_lake
    processor = foundation.identities["processor"]
    writers = [
        RoleAssignmentArgs(
            principal_id=processor.principal_id,
            role=BuiltInRole.STORAGE_BLOB_DATA_CONTRIBUTOR,
            name="processor",
            description="Databricks (access connector) reads and writes the medallion layers",
        )
    ]
    capture = config.event_hubs.capture if config.event_hubs else None
    if capture is not None and capture.enabled:
        writers.append(
            RoleAssignmentArgs(
                principal_id=foundation.identities["eventhubs"].principal_id,
                role=BuiltInRole.STORAGE_BLOB_DATA_CONTRIBUTOR,
                name="eventhubs-capture",
                sub_scope="landing",
                description="Event Hubs capture writes Avro files to the landing container only",
            )
        )
    lake = DataLake(
        place.name("datalake"),
        DataLakeArgs(
            common=foundation.common,
            diagnostics=foundation.diagnostics,
            account_name=foundation.naming.name("st", "storage", unique=True),
            private_endpoints=(foundation.endpoint("dfs"), foundation.endpoint("blob")),
            replication=lake_config.replication.value,
            lifecycle=LifecycleArgs(
                tier_to_cool_after_days=lake_config.tier_to_cool_after_days,
                expire_after_days=lake_config.expire_after_days,
                expiry_action=lake_config.expiry_action,
                containers=lake_config.lifecycle_containers,
            ),
            customer_managed_key=foundation.vault.customer_managed_keys.get("lake"),
            role_assignments=writers,
            resource_access=(ResourceAccessArgs(workspace.access_connector.id, foundation.tenant_id),)
            if workspace is not None
            else (),
        ),
        place.opts(),
    )
    return Storage(lake)


@dataclass(frozen=True)
class Processing:
    """What the serving layer builds on: the workspace (and its provider), the catalog, the runtime, the jobs."""

    workspace: DatabricksWorkspace
    catalog: UnityCatalog
    runtime: DatabricksRuntime
    jobs: StreamingJobs

    @property
    def outputs(self) -> dict[str, Any]:
        return {
            "databricksWorkspaceUrl": self.workspace.workspace_url,
            "databricksCatalog": self.catalog.catalog.name,
            "databricksJobIds": self.jobs.job_ids,
            "streamingJobsCodeHash": self.jobs.code_hash,
        }


def object_prefix(config: StackConfig) -> str:
    """The prefix of every workspace object's name (jobs, policies, warehouse, dashboard)."""
    return f"{config.name_prefix}-{config.environment.value}"


def cluster_limits(db: DatabricksConfig) -> ClusterLimits:
    policy = db.cluster_policy
    return ClusterLimits(
        spark_version=policy.spark_version,
        node_types=policy.node_types,
        min_workers=policy.min_workers,
        max_workers=policy.max_workers,
        autotermination_minutes=policy.autotermination_minutes,
        spot=db.compute.spot,
    )


def stage_clusters(config: StackConfig) -> dict[str, ClusterShape]:
    """Bronze's, silver's and gold's job clusters: the capacity model's proposal, or `databricks.compute`'s
    override of it (stack_config/capacity_model.py `stage_shapes`; config validation has refused a shape too
    small for the declared load)."""
    return {
        shape.stage: ClusterShape(shape.node_type, shape.min_workers, shape.max_workers)
        for shape in capacity_model.stage_shapes(config)
    }


def build_workspace(config: StackConfig, place: Placement, foundation: Foundation) -> DatabricksWorkspace | None:
    """The Databricks workspace (with its access connector), before the lake, whose firewall lets the
    connector in by a resource instance rule; None without a databricks section."""
    return _workspace(config.databricks, place, foundation) if config.databricks is not None else None


def build_processing(
    config: StackConfig,
    place: Placement,
    foundation: Foundation,
    workspace: DatabricksWorkspace,
    storage: Storage,
    kafka: KafkaSource,
    database: SqlServing | None,
    source_root: Path,
) -> Processing:
    """Workspace, then (through its provider) the runtime guard rails, Unity Catalog and the streaming jobs."""
    db = config.databricks
    assert db is not None  # the platform builds processing only with a databricks section
    limits = cluster_limits(db)
    runtime = DatabricksRuntime(
        place.name("databricks-runtime"),
        DatabricksRuntimeArgs(
            common=foundation.common,
            provider=workspace.provider,
            object_prefix=object_prefix(config),
            limits=limits,
            key_vault_id=foundation.vault.vault_id,
            key_vault_uri=foundation.vault.vault_uri,
            personal_access_tokens=db.personal_access_tokens.enabled,
            pat_max_lifetime_days=db.personal_access_tokens.max_lifetime_days,
            restrict_workspace_admins=db.restrict_workspace_admins,
            engineers=db.grants.engineers,
            public_front_end_allowed_ips=db.public_front_end_allowed_ips,
            account_id=db.account_id,
            deployer_application_id=db.deployer.application_id if db.deployer else None,
            depends_on=workspace.ready,
        ),
        place.opts(),
    )
    catalog = UnityCatalog(
        place.name(CATALOG_COMPONENT),
        CatalogArgs(
            common=foundation.common,
            provider=workspace.provider,
            catalog_name=db.catalog(config.name_prefix, config.environment.value),
            access_connector_id=workspace.access_connector.id,
            managed_identity_id=foundation.identities["processor"].id,
            location_urls={key: storage.lake.abfss_url(key) for key in LOCATIONS},
            writer=runtime.application_id,
            groups=CatalogGroups(
                consumers=db.grants.consumers, analysts=db.grants.analysts, engineers=db.grants.engineers
            ),
            service_credential=True,
            depends_on=(*workspace.ready, *storage.lake.containers.values(), *storage.lake.role_assignments),
        ),
        place.opts(),
    )
    jobs = StreamingJobs(
        place.name("streaming-jobs"),
        _jobs_args(config, db, foundation, storage, kafka, database, workspace, runtime, catalog, limits, source_root),
        place.opts(),
    )
    return Processing(workspace, catalog, runtime, jobs)


CATALOG_COMPONENT = "unity-catalog"


def _old_assignment_urns(place: Placement) -> list[str]:
    """The URNs the metastore assignment had as a child of the UnityCatalog component, under the Platform
    and before it (see `Placement`): the workspace component took it over, and the aliases keep its state."""
    if place.prefix:
        return []  # a second platform never had the old layout
    name = f"{CATALOG_COMPONENT}-metastore-assignment"
    leaf = f"{TYPE_PREFIX}UnityCatalog$databricks:index/metastoreAssignment:MetastoreAssignment"
    stack, project = pulumi.get_stack(), pulumi.get_project()
    return [f"urn:pulumi:{stack}::{project}::{chain}{leaf}::{name}" for chain in (f"{TYPE_PREFIX}Platform$", "")]


def _workspace(db: DatabricksConfig, place: Placement, foundation: Foundation) -> DatabricksWorkspace:
    naming, net, vault = foundation.naming, foundation.network, foundation.vault
    cmk = vault.customer_managed_keys.get("databricks")
    endpoint = foundation.endpoint
    return DatabricksWorkspace(
        place.name("databricks"),
        DatabricksWorkspaceArgs(
            common=foundation.common,
            diagnostics=foundation.diagnostics,
            workspace_name=naming.name("dbw"),
            managed_resource_group_name=naming.name("rg", qualifier="dbw-managed"),
            access_connector_name=naming.name("dbac"),
            dbfs_storage_account_name=naming.name("dbfs", "storage", unique=True),
            network=WorkspaceNetworkArgs(
                vnet_id=net.vnet_id,
                host_subnet_id=net.subnet_id("databricks-host"),
                container_subnet_id=net.subnet_id("databricks-container"),
                depends_on=(*net.subnets.values(), *([net.nat_gateway] if net.nat_gateway else [])),
            ),
            private_endpoints=(endpoint(UI_API, "databricks"), endpoint(BROWSER_AUTH, "databricks")),
            dbfs_endpoints=(endpoint("dfs"), endpoint("blob")),
            access_connector_identity_id=foundation.identities["processor"].id,
            provider_auth=db.provider_auth.value,
            account_id=db.account_id,
            deployer_account_principal_id=db.deployer.account_principal_id if db.deployer else None,
            metastore_id=db.metastore_id,
            metastore_assignment=db.metastore_assignment.value,
            metastore_assignment_aliases=_old_assignment_urns(place),
            allow_public_front_end=db.allow_public_front_end,
            customer_managed_key=WorkspaceCmkArgs(
                key=cmk, key_resource=vault.keys["databricks"], encrypt_dbfs_root=db.encrypt_dbfs_root
            )
            if cmk is not None
            else None,
        ),
        place.opts(),
    )


def _jobs_args(
    config: StackConfig,
    db: DatabricksConfig,
    foundation: Foundation,
    storage: Storage,
    kafka: KafkaSource,
    database: SqlServing | None,
    workspace: DatabricksWorkspace,
    runtime: DatabricksRuntime,
    catalog: UnityCatalog,
    limits: ClusterLimits,
    source_root: Path,
) -> StreamingJobsArgs:
    """The `databricks.streaming` and `databricks.jobs` sections, with what the jobs read and write."""
    streaming = db.streaming
    load = capacity_model.load_of(config)
    triggers = capacity_model.triggers(load) if load is not None else None
    return StreamingJobsArgs(
        common=foundation.common,
        provider=workspace.provider,
        runtime=runtime,
        source_root=source_root,
        object_prefix=object_prefix(config),
        catalog=catalog.catalog.name,
        schemas={layer: schema.name for layer, schema in catalog.schemas.items()},
        checkpoint_base=storage.lake.abfss_url("checkpoints", pulumi.get_stack()),
        kafka=kafka,
        service_credential=catalog.service_credential.name if catalog.service_credential else None,
        streaming=StreamingParams(
            symbols=streaming.symbols,
            watermark=streaming.watermark,
            window=streaming.window,
            alert_rules=[rule.model_dump(mode="json") for rule in streaming.alert_rules],
            starting_offsets=streaming.starting_offsets,
            max_offsets_per_trigger=triggers.max_offsets_per_trigger if triggers else None,
            trigger_interval=triggers.interval if triggers else None,
        ),
        sql_server=database.fqdn if database is not None else None,
        sql_database=database.database_name if database is not None else None,
        failure_emails=db.jobs.failure_emails,
        # Operations' streaming SLO: a backlog older than the freshness target mails the on-call.
        backlog_seconds=config.operations.slo.freshness_seconds if config.operations else None,
        backlog_emails=config.operations.action_group.emails if config.operations else (),
        limits=limits,
        # docs/serving.md: dev's job user may run DDL and applies pending migrations at start; in prod an
        # admin applies them and the job only verifies.
        sql_migrate="verify" if config.is_prod else "apply",
        operators=db.grants.operators,
        viewers=tuple(g for g in db.grants.engineers if g not in db.grants.operators),
        jobs=deployable_jobs(source_root),
        clusters=stage_clusters(config),
        maintenance=maintenance_params(config),
        run_window=run_window_params(db.jobs.run_window),
        depends_on=catalog.ready,
    )


def stream_retention_hours(config: StackConfig) -> int | None:
    """How long the broker keeps the trades stream (None: forever), the longest a stream can lag usefully."""
    stream = config.ingestion.trades_stream
    if config.event_hubs is not None:
        hub = next((h for h in config.event_hubs.hubs if h.name == stream), None)
        return hub.retention_hours if hub is not None else None
    if config.confluent is not None:
        topic = next((t for t in config.confluent.topics if t.name == stream), None)
        if topic is not None and topic.retention_ms > 0:
            return -(-topic.retention_ms // 3_600_000)
    return None


def run_window_params(window: RunWindowConfig | None) -> RunWindowParams | None:
    """`databricks.jobs.runWindow` as the window jobs' schedules (none: the jobs run around the clock)."""
    if window is None:
        return None
    return RunWindowParams(
        open_cron=window.cron(window.start), close_cron=window.cron(window.end), timezone=window.timezone
    )


def maintenance_params(config: StackConfig) -> MaintenanceParams:
    """The nightly Delta maintenance: bronze's retention from `capacity.retention` (seed 001's 90 days hot,
    730 in all, when the stack declares no capacity), VACUUM past the stream's retention (docs/capacity.md)."""
    retention = config.capacity.retention if config.capacity is not None else RetentionConfig()
    stream_hours = stream_retention_hours(config)
    return MaintenanceParams(
        hot_days=retention.bronze_hot_days,
        cold_days=retention.bronze_cold_days,
        vacuum_hours=vacuum_hours_for(stream_hours),
        stream_retention_hours=stream_hours or 0,
    )
