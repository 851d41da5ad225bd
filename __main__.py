"""rta-platform stack program: validated config in, composed components out.

Only composition lives here. Config is read and validated first, so a broken
stack file stops the run before a single resource is registered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi_azure_native import authorization

from components.base import CommonArgs, DiagnosticsArgs, PrivateEndpointArgs, RoleAssignmentArgs
from components.confluent_ingestion import (
    ClusterArgs,
    ConfluentCredentials,
    ConfluentIngestion,
    ConfluentIngestionArgs,
    PrivateLinkArgs,
    SecretStoreArgs,
    TopicArgs,
)
from components.data_lake import DataLake, DataLakeArgs, LifecycleArgs
from components.databricks_jobs import (
    ClusterLimits,
    DatabricksRuntime,
    DatabricksRuntimeArgs,
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
from components.event_streaming import (
    CaptureArgs,
    EventStreaming,
    EventStreamingArgs,
    HubArgs,
)
from components.identities import Identities, IdentitiesArgs, IdentitySpec
from components.ingestion import KafkaAuthMode, KafkaSource
from components.key_vault import CmkConsumer, KeyVault, KeyVaultArgs
from components.monitoring import Monitoring, MonitoringArgs
from components.naming import Naming
from components.network import Network, NetworkArgs, SubnetSpec
from components.resource_group import PlatformResourceGroup, ResourceGroupArgs
from components.roles import BuiltInRole
from components.serving_dashboards import AlertRuleArgs, ServingDashboards, ServingDashboardsArgs, WarehouseArgs
from components.sql_serving import (
    LongTermRetentionArgs,
    SqlAdminGroupArgs,
    SqlBackupArgs,
    SqlDatabaseArgs,
    SqlServing,
    SqlServingArgs,
)
from components.unity_catalog import LOCATIONS, CatalogGroups, UnityCatalog, UnityCatalogArgs
from stack_config import IngestionProvider, StackConfig, load_stack_config
from stack_config.databricks import DatabricksConfig
from stack_config.model import PROJECT
from stack_config.sql import DashboardsConfig, SqlConfig


def platform_tags(config: StackConfig) -> dict[str, str]:
    return {
        **config.tags,
        "environment": config.environment.value,
        "project": PROJECT,
        "managedBy": "pulumi",
    }


def sql_serving_args(sql: SqlConfig, *, tenant_id: pulumi.Input[str], **kwargs: Any) -> SqlServingArgs:
    """The `rta-platform:sql` section as the SQL component's args (the rest comes from the stack)."""
    db, backup, ltr = sql.database, sql.backup, sql.backup.long_term_retention
    return SqlServingArgs(
        admin_group=SqlAdminGroupArgs(
            login=sql.admin_group.name, object_id=sql.admin_group.object_id, tenant_id=tenant_id
        ),
        database=SqlDatabaseArgs(
            name=db.name,
            sku_name=db.sku_name,
            tier=db.edition.value,
            family=db.family,
            capacity=db.v_cores,
            zone_redundant=db.zone_redundant,
            backup_storage_redundancy=db.backup_storage_redundancy.value,
            min_capacity=db.min_v_cores,
            auto_pause_delay_minutes=db.auto_pause_delay_minutes,
            max_size_gb=db.max_size_gb,
            high_availability_replicas=db.high_availability_replicas,
        ),
        backup=SqlBackupArgs(
            short_term_retention_days=backup.short_term_retention_days,
            differential_backup_interval_hours=backup.differential_backup_interval_hours,
            long_term=LongTermRetentionArgs(
                weekly_retention=ltr.weekly_retention,
                monthly_retention=ltr.monthly_retention,
                yearly_retention=ltr.yearly_retention,
                week_of_year=ltr.week_of_year,
            )
            if ltr
            else None,
        ),
        audit_retention_days=sql.audit_retention_days,
        security_alert_emails=sql.security_alert_emails,
        **kwargs,
    )


def databricks_vault_roles(databricks: DatabricksConfig | None) -> list[RoleAssignmentArgs]:
    """The Key Vault-backed secret scope reads secrets as the AzureDatabricks app."""
    if databricks is None:
        return []
    return [
        RoleAssignmentArgs(
            principal_id=databricks.azure_databricks_app_object_id,
            role=BuiltInRole.KEY_VAULT_SECRETS_USER,
            name="azure-databricks-secret-scope",
            description="AzureDatabricks app: reads secrets for the Key Vault-backed secret scope",
        )
    ]


@dataclass(frozen=True)
class DatabricksLayer:
    """What later layers build on: the workspace (and its provider), the catalog, the runtime, the jobs."""

    workspace: DatabricksWorkspace
    catalog: UnityCatalog
    runtime: DatabricksRuntime
    jobs: StreamingJobs


def databricks_layer(
    db: DatabricksConfig,
    *,
    config: StackConfig,
    naming: Naming,
    common: CommonArgs,
    diagnostics: DiagnosticsArgs,
    net: Network,
    endpoint: Callable[[str, str | None], PrivateEndpointArgs],
    processor_identity_id: pulumi.Input[str],
    vault: KeyVault,
    lake: DataLake,
    kafka_source: KafkaSource,
    serving: SqlServing | None,
) -> DatabricksLayer:
    """Workspace, then (through its provider) Unity Catalog, guard rails and the streaming jobs."""
    prefix = f"{config.name_prefix}-{config.environment.value}"
    cmk = vault.customer_managed_keys.get("databricks")
    workspace = DatabricksWorkspace(
        "databricks",
        DatabricksWorkspaceArgs(
            common=common,
            diagnostics=diagnostics,
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
            dbfs_endpoints=(endpoint("dfs", None), endpoint("blob", None)),
            access_connector_identity_id=processor_identity_id,
            provider_auth=db.provider_auth.value,
            allow_public_front_end=db.allow_public_front_end,
            customer_managed_key=WorkspaceCmkArgs(
                key=cmk, key_resource=vault.keys["databricks"], encrypt_dbfs_root=db.encrypt_dbfs_root
            )
            if cmk is not None
            else None,
        ),
    )
    policy = db.cluster_policy
    limits = ClusterLimits(
        spark_version=policy.spark_version,
        node_types=policy.node_types,
        min_workers=policy.min_workers,
        max_workers=policy.max_workers,
        autotermination_minutes=policy.autotermination_minutes,
    )
    runtime = DatabricksRuntime(
        "databricks-runtime",
        DatabricksRuntimeArgs(
            common=common,
            provider=workspace.provider,
            object_prefix=prefix,
            limits=limits,
            key_vault_id=vault.vault_id,
            key_vault_uri=vault.vault_uri,
            personal_access_tokens=db.personal_access_tokens.enabled,
            pat_max_lifetime_days=db.personal_access_tokens.max_lifetime_days,
            restrict_workspace_admins=db.restrict_workspace_admins,
            engineers=db.grants.engineers,
            public_front_end_allowed_ips=db.public_front_end_allowed_ips,
            depends_on=workspace.ready,
        ),
    )
    catalog = UnityCatalog(
        "unity-catalog",
        UnityCatalogArgs(
            common=common,
            provider=workspace.provider,
            metastore_id=db.metastore_id,
            workspace_id=workspace.databricks_workspace_id,
            catalog_name=db.catalog(config.name_prefix, config.environment.value),
            access_connector_id=workspace.access_connector.id,
            managed_identity_id=processor_identity_id,
            location_urls={key: lake.abfss_url(key) for key in LOCATIONS},
            writer=runtime.application_id,
            groups=CatalogGroups(
                consumers=db.grants.consumers, analysts=db.grants.analysts, engineers=db.grants.engineers
            ),
            service_credential=True,
            depends_on=(*workspace.ready, *lake.containers.values(), *lake.role_assignments),
        ),
    )
    streaming = db.streaming
    source_root = Path(__file__).resolve().parent
    jobs = StreamingJobs(
        "streaming-jobs",
        StreamingJobsArgs(
            common=common,
            provider=workspace.provider,
            runtime=runtime,
            source_root=source_root,
            object_prefix=prefix,
            catalog=catalog.catalog.name,
            schemas={layer: schema.name for layer, schema in catalog.schemas.items()},
            checkpoint_base=lake.abfss_url("checkpoints", pulumi.get_stack()),
            kafka=kafka_source,
            service_credential=catalog.service_credential.name if catalog.service_credential else None,
            streaming=StreamingParams(
                symbols=streaming.symbols,
                watermark=streaming.watermark,
                window=streaming.window,
                alert_rules=[rule.model_dump(mode="json") for rule in streaming.alert_rules],
                starting_offsets=streaming.starting_offsets,
            ),
            sql_server=serving.fqdn if serving is not None else None,
            sql_database=serving.database_name if serving is not None else None,
            failure_emails=db.jobs.failure_emails,
            limits=limits,
            max_retries=db.jobs.max_retries,
            min_retry_interval_seconds=db.jobs.min_retry_interval_seconds,
            operators=db.grants.operators,
            viewers=tuple(g for g in db.grants.engineers if g not in db.grants.operators),
            jobs=deployable_jobs(source_root),
            depends_on=catalog.ready,
        ),
    )
    pulumi.export("databricksWorkspaceUrl", workspace.workspace_url)
    pulumi.export("databricksCatalog", catalog.catalog.name)
    pulumi.export("databricksJobIds", jobs.job_ids)
    pulumi.export("streamingJobsCodeHash", jobs.code_hash)
    return DatabricksLayer(workspace, catalog, runtime, jobs)


def serving_dashboards(
    dash: DashboardsConfig, *, config: StackConfig, common: CommonArgs, layer: DatabricksLayer
) -> ServingDashboards:
    """SQL warehouse, trading dashboard and SQL alerts, through the workspace's provider."""
    db = config.databricks
    assert db is not None  # StackConfig: dashboards needs databricks
    w = dash.warehouse
    dashboards = ServingDashboards(
        "serving-dashboards",
        ServingDashboardsArgs(
            common=common,
            provider=layer.workspace.provider,
            object_prefix=f"{config.name_prefix}-{config.environment.value}",
            catalog=layer.catalog.catalog.name,
            gold_schema=layer.catalog.schemas["gold"].name,
            warehouse=WarehouseArgs(
                size=w.size,
                min_clusters=w.min_clusters,
                max_clusters=w.max_clusters,
                serverless=w.serverless,
                auto_stop_minutes=w.auto_stop_minutes,
            ),
            notification_emails=dash.notification_emails,
            alert_rules=[
                AlertRuleArgs(
                    rule.name,
                    f"{rule.metric} {rule.operator} {rule.threshold:g} on "
                    f"{', '.join(rule.symbols) if rule.symbols else 'every symbol'}",
                )
                for rule in db.streaming.alert_rules
            ],
            alert_interval_minutes=dash.alert_interval_minutes,
            alert_lookback_minutes=dash.alert_lookback_minutes,
            timezone=dash.timezone,
            folder=dash.folder,
            run_as_service_principal=layer.runtime.application_id,
            viewers=tuple(dict.fromkeys((*db.grants.consumers, *db.grants.analysts))),
            depends_on=layer.catalog.ready,
        ),
    )
    pulumi.export("dashboardWarehouseId", dashboards.warehouse.id)
    pulumi.export("dashboardId", dashboards.dashboard.id)
    return dashboards


def main() -> None:
    config = load_stack_config()
    naming = Naming.create(
        config.name_prefix,
        config.environment.value,
        config.location,
        PROJECT,
        pulumi.get_stack(),
        config.unique_suffix,
    )
    tags = platform_tags(config)
    client = authorization.get_client_config_output()

    rg = PlatformResourceGroup(
        "platform",
        ResourceGroupArgs(name=naming.name("rg"), location=config.location, tags=tags, lock=config.lock.enabled),
    )
    common = CommonArgs(
        resource_group_name=rg.name, location=config.location, tags=tags, subscription_id=client.subscription_id
    )

    monitoring = Monitoring(
        "monitoring",
        MonitoringArgs(
            common=common,
            workspace_name=naming.name("log"),
            retention_days=config.monitoring.retention_days,
            daily_quota_gb=config.monitoring.daily_quota_gb,
            allow_public_query=config.monitoring.allow_public_query,
        ),
    )
    diagnostics = monitoring.diagnostics

    subnets = config.network.subnets
    net = Network(
        "network",
        NetworkArgs(
            common=common,
            diagnostics=diagnostics,
            vnet_name=naming.name("vnet"),
            address_space=config.network.address_space,
            subnets=(
                SubnetSpec("private-endpoints", subnets.private_endpoints),
                SubnetSpec("databricks-host", subnets.databricks_host, delegate_to_databricks=True),
                SubnetSpec("databricks-container", subnets.databricks_container, delegate_to_databricks=True),
            ),
        ),
    )

    def endpoint(group_id: str, zone_key: str | None = None) -> PrivateEndpointArgs:
        return PrivateEndpointArgs(
            subnet_id=net.subnet_id("private-endpoints"),
            private_dns_zone_id=net.dns_zone_id(zone_key or group_id),
            group_id=group_id,
        )

    cmk_on = config.encryption.customer_managed_keys
    use_eventhubs = config.ingestion.provider is IngestionProvider.EVENTHUBS
    identity_specs = [
        IdentitySpec("producer", naming.name("id", qualifier="producer"), "sends trading events"),
        IdentitySpec(
            "processor",
            naming.name("id", qualifier="processor"),
            "Databricks access connector: reads streams, writes the lake",
        ),
    ]
    if use_eventhubs:
        identity_specs.append(
            IdentitySpec("eventhubs", naming.name("id", qualifier="evh"), "Event Hubs namespace: capture and CMK")
        )
    if cmk_on:
        identity_specs.append(IdentitySpec("lake-cmk", naming.name("id", qualifier="st-cmk"), "unwraps the lake's CMK"))
        if config.sql is not None:
            identity_specs.append(
                IdentitySpec("sql", naming.name("id", qualifier="sql"), "SQL server: unwraps its TDE CMK")
            )
    identities = Identities("identities", IdentitiesArgs(common=common, identities=identity_specs))

    def consumer(key: str, identity_key: str) -> CmkConsumer:
        identity = identities[identity_key]
        return CmkConsumer(key, identity.id, identity.client_id, identity.principal_id)

    cmk_consumers = []
    if cmk_on:
        cmk_consumers.append(consumer("lake", "lake-cmk"))
        if use_eventhubs:
            cmk_consumers.append(consumer("eventhubs", "eventhubs"))
        if config.sql is not None:
            cmk_consumers.append(consumer("sql", "sql"))
        if config.databricks is not None:
            # The AzureDatabricks first-party app (no identity of ours) unwraps the workspace's
            # managed-services key; the workspace grants its disk and DBFS identities itself.
            cmk_consumers.append(CmkConsumer("databricks", "", "", config.databricks.azure_databricks_app_object_id))
    vault = KeyVault(
        "keyvault",
        KeyVaultArgs(
            common=common,
            diagnostics=diagnostics,
            private_endpoints=(endpoint("vault"),),
            vault_name=naming.name("kv", "keyvault", unique=True),
            tenant_id=client.tenant_id,
            sku=config.key_vault.sku,
            soft_delete_retention_days=config.key_vault.soft_delete_retention_days,
            cmk_consumers=cmk_consumers,
            role_assignments=databricks_vault_roles(config.databricks),
            key_type=config.encryption.key_type,
            key_size=config.encryption.key_size,
            key_rotation=config.encryption.key_rotation,
            key_expiry=config.encryption.key_expiry,
        ),
    )

    lake_writers = [
        RoleAssignmentArgs(
            principal_id=identities["processor"].principal_id,
            role=BuiltInRole.STORAGE_BLOB_DATA_CONTRIBUTOR,
            name="processor",
            description="Databricks (access connector) reads and writes the medallion layers",
        )
    ]
    capture = config.event_hubs.capture if config.event_hubs else None
    if capture is not None and capture.enabled:
        lake_writers.append(
            RoleAssignmentArgs(
                principal_id=identities["eventhubs"].principal_id,
                role=BuiltInRole.STORAGE_BLOB_DATA_CONTRIBUTOR,
                name="eventhubs-capture",
                sub_scope="landing",
                description="Event Hubs capture writes Avro files to the landing container only",
            )
        )
    lake = DataLake(
        "datalake",
        DataLakeArgs(
            common=common,
            diagnostics=diagnostics,
            account_name=naming.name("st", "storage", unique=True),
            private_endpoints=(endpoint("dfs"), endpoint("blob")),
            replication=config.data_lake.replication.value,
            lifecycle=LifecycleArgs(
                tier_to_cool_after_days=config.data_lake.tier_to_cool_after_days,
                expire_after_days=config.data_lake.expire_after_days,
                expiry_action=config.data_lake.expiry_action,
                containers=config.data_lake.lifecycle_containers,
            ),
            customer_managed_key=vault.customer_managed_keys.get("lake"),
            role_assignments=lake_writers,
        ),
    )

    pulumi.export("resourceGroupName", rg.name)
    pulumi.export("location", config.location)
    pulumi.export("logAnalyticsWorkspaceId", monitoring.workspace_id)
    pulumi.export("vnetId", net.vnet_id)
    pulumi.export("keyVaultUri", vault.vault_uri)
    pulumi.export("dataLakeAccountName", lake.account.name)
    pulumi.export("dataLakeDfsEndpoint", lake.dfs_endpoint)
    pulumi.export("identityClientIds", {k: v.client_id for k, v in identities.identities.items()})

    serving: SqlServing | None = None
    if config.sql is not None:
        # Serving layer: Entra-only Azure SQL behind its private endpoint; Power BI connects with the .pbids.
        serving = SqlServing(
            "serving",
            sql_serving_args(
                config.sql,
                tenant_id=client.tenant_id,
                common=common,
                diagnostics=diagnostics,
                private_endpoints=(endpoint("sqlServer"),),
                server_name=naming.name("sql", "sql", unique=True),
                identity_id=identities["sql"].id if "sql" in identities.identities else None,
                customer_managed_key=vault.customer_managed_keys.get("sql"),
            ),
        )
        pulumi.export("sqlServerFqdn", serving.fqdn)
        pulumi.export("sqlDatabaseName", serving.database_name)
        pulumi.export("powerBiDataSource", serving.pbids)
        # Who becomes the gold database's contained user (the identity the streaming jobs use for Azure):
        # name and object id are all `CREATE USER [..] FROM EXTERNAL PROVIDER WITH OBJECT_ID` needs.
        processor = identities["processor"]
        pulumi.export(
            "sqlGoldWriter",
            {
                "name": naming.name("id", qualifier="processor"),
                "objectId": processor.principal_id,
                "clientId": processor.client_id,
            },
        )

    kafka_source: KafkaSource | None = None
    if use_eventhubs and config.event_hubs is not None:
        eh = config.event_hubs
        stream = config.ingestion.trades_stream
        streaming = EventStreaming(
            "eventstreaming",
            EventStreamingArgs(
                common=common,
                diagnostics=diagnostics,
                private_endpoints=(endpoint("namespace"),),
                namespace_name=naming.name("evhns", "eventhubs", unique=True),
                sku=eh.sku.value,
                capacity=eh.capacity,
                zone_redundant=eh.zone_redundant,
                auto_inflate_max_units=eh.auto_inflate_max_units,
                dedicated_cluster_id=eh.dedicated_cluster_id,
                hubs=[HubArgs(h.name, h.partitions, h.retention_hours, h.consumer_groups) for h in eh.hubs],
                identity_id=identities["eventhubs"].id,
                capture=CaptureArgs(
                    storage_account_id=lake.account_id,
                    container="landing",
                    identity_id=identities["eventhubs"].id,
                    interval_seconds=eh.capture.interval_seconds,
                    size_limit_bytes=eh.capture.size_limit_bytes,
                    depends_on=(*lake.containers.values(), *lake.role_assignments),
                )
                if eh.capture.enabled
                else None,
                customer_managed_key=vault.customer_managed_keys.get("eventhubs"),
                role_assignments=[
                    RoleAssignmentArgs(
                        principal_id=identities["producer"].principal_id,
                        role=BuiltInRole.EVENT_HUBS_DATA_SENDER,
                        name="producer",
                        sub_scope=stream,
                        description="The event producer sends to the trades hub only",
                    ),
                    RoleAssignmentArgs(
                        principal_id=identities["processor"].principal_id,
                        role=BuiltInRole.EVENT_HUBS_DATA_RECEIVER,
                        name="processor",
                        sub_scope=stream,
                        description="The bronze job reads the trades hub only",
                    ),
                ],
            ),
        )
        kafka_source = KafkaSource(
            provider="eventhubs",
            bootstrap_servers=streaming.kafka_bootstrap_servers,
            topic=stream,
            auth_mode=KafkaAuthMode.ENTRA_SERVICE_CREDENTIAL,
        )
        pulumi.export("eventHubsNamespaceFqdn", streaming.fqdn)
    elif config.confluent is not None:
        cc = config.confluent
        credentials = pulumi.Config("confluentcloud")  # set with `pulumi config set --secret`
        confluent = ConfluentIngestion(
            "confluent",
            ConfluentIngestionArgs(
                common=common,
                credentials=ConfluentCredentials(
                    cloud_api_key=credentials.require_secret("cloudApiKey"),
                    cloud_api_secret=credentials.require_secret("cloudApiSecret"),
                ),
                environment_display_name=cc.environment_name or naming.name("env"),
                cluster_display_name=naming.name("kafka"),
                network_display_name=naming.name("ccn"),
                stream_governance=cc.stream_governance.value,
                cluster=ClusterArgs(
                    type=cc.cluster.type.value,
                    availability=cc.cluster.availability.value,
                    ckus=cc.cluster.ckus,
                    deletion_protection=cc.cluster.deletion_protection,
                ),
                topics=[TopicArgs(t.name, t.partitions, t.retention_ms, t.cleanup_policy.value) for t in cc.topics],
                trades_topic=config.ingestion.trades_stream,
                processor_consumer_group_prefix=cc.processor_consumer_group_prefix,
                service_account_names={
                    role: naming.name("sa", qualifier=role, unique=True)
                    for role in ("producer", "processor", "topic-manager")
                },
                secrets=SecretStoreArgs(vault_name=vault.vault.name, vault=vault.vault, vault_id=vault.vault_id),
                api_key_expiry=cc.api_key_expiry,
                private_link=PrivateLinkArgs(
                    subnet_id=net.subnet_id("private-endpoints"),
                    add_private_dns_zone=lambda key, zone: net.add_private_dns_zone("network", key, zone),
                    endpoint_name_prefix=naming.name("pe", qualifier="confluent"),
                    zones=cc.private_link.zones,
                )
                if cc.private
                else None,
                producer_principal_id=identities["producer"].principal_id,
            ),
        )
        kafka_source = confluent.kafka_source
        pulumi.export("confluentEnvironmentId", confluent.environment_id)
        pulumi.export("confluentClusterId", confluent.cluster_id)

    if kafka_source is not None:
        pulumi.export("kafkaBootstrapServers", kafka_source.bootstrap_servers)
        pulumi.export("kafkaTopic", kafka_source.topic)
        pulumi.export("kafkaAuthMode", kafka_source.auth_mode.value)
        if kafka_source.api_key_secret_name is not None:
            # Names of the Key Vault secrets (never their values) the secret scope serves to jobs.
            pulumi.export("kafkaApiKeySecretName", kafka_source.api_key_secret_name)
            pulumi.export("kafkaApiSecretSecretName", kafka_source.api_secret_secret_name)

    if config.databricks is not None:
        if kafka_source is None:
            raise ValueError("databricks needs an ingestion source (eventHubs or confluent)")
        layer = databricks_layer(
            config.databricks,
            config=config,
            naming=naming,
            common=common,
            diagnostics=diagnostics,
            net=net,
            endpoint=endpoint,
            processor_identity_id=identities["processor"].id,
            vault=vault,
            lake=lake,
            kafka_source=kafka_source,
            serving=serving,
        )
        if config.dashboards is not None:
            serving_dashboards(config.dashboards, config=config, common=common, layer=layer)


main()
