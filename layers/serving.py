"""Serving: Azure SQL for the gold tables (Power BI's source), and the Databricks SQL dashboards and alerts.

The database is built before processing (the gold job writes into it); the
dashboards after it (they read the catalog's gold schema).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.serving_dashboards import (
    AlertRuleArgs,
    ServingDashboards,
    ServingDashboardsArgs,
    SloAlertsArgs,
    WarehouseArgs,
)
from components.sql_serving import (
    LongTermRetentionArgs,
    SqlAdminGroupArgs,
    SqlBackupArgs,
    SqlDatabaseArgs,
    SqlFailoverGroupArgs,
    SqlServing,
    SqlServingArgs,
)
from layers.foundation import Foundation
from layers.placement import Placement
from layers.processing import Processing, object_prefix
from stack_config import StackConfig
from stack_config.sql import SqlConfig


@dataclass(frozen=True)
class Database:
    """The gold database, and who becomes its contained user (the identity the streaming jobs use)."""

    sql: SqlServing | None
    gold_writer: dict[str, Any] | None = None

    @property
    def outputs(self) -> dict[str, Any]:
        if self.sql is None:
            return {}
        return {
            "sqlServerFqdn": self.sql.fqdn,
            "sqlDatabaseName": self.sql.database_name,
            "powerBiDataSource": self.sql.pbids,
            # Name and object id are all `CREATE USER [..] FROM EXTERNAL PROVIDER WITH OBJECT_ID` needs.
            "sqlGoldWriter": self.gold_writer,
        }


def build_database(config: StackConfig, place: Placement, foundation: Foundation) -> Database:
    """Entra-only Azure SQL behind its private endpoint; Power BI connects with the `.pbids`."""
    if config.sql is None:
        return Database(None)
    identities = foundation.identities
    sql = SqlServing(
        place.name("serving"),
        sql_serving_args(
            config.sql,
            tenant_id=foundation.tenant_id,
            common=foundation.common,
            diagnostics=foundation.diagnostics,
            private_endpoints=(foundation.endpoint("sqlServer"),),
            server_name=foundation.naming.name("sql", "sql", unique=True),
            identity_id=identities["sql"].id if "sql" in identities.identities else None,
            customer_managed_key=foundation.vault.customer_managed_keys.get("sql"),
            failover_group=failover_group_args(config, foundation),
        ),
        place.opts(),
    )
    processor = identities["processor"]
    writer = {
        "name": foundation.naming.name("id", qualifier="processor"),
        "objectId": processor.principal_id,
        "clientId": processor.client_id,
    }
    return Database(sql, writer)


def failover_group_args(config: StackConfig, foundation: Foundation) -> SqlFailoverGroupArgs | None:
    """`sql.failoverGroup` as the component's args: the partner in the paired (or configured) region."""
    fog = config.sql.failover_group if config.sql else None
    if fog is None:
        return None
    partner_location = fog.partner(config.location)
    assert partner_location is not None, "refused by SqlConfig.stack_problems"
    return SqlFailoverGroupArgs(
        group_name=foundation.naming.name("fog", "sql", unique=True),
        partner_server_name=foundation.naming.name("sql", "sql", unique=True, qualifier="dr"),
        partner_location=partner_location,
        failover_policy=fog.failover_policy,
        grace_period_minutes=fog.grace_period_minutes,
    )


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


@dataclass(frozen=True)
class Dashboards:
    dashboards: ServingDashboards | None

    @property
    def outputs(self) -> dict[str, Any]:
        if self.dashboards is None:
            return {}
        return {"dashboardWarehouseId": self.dashboards.warehouse.id, "dashboardId": self.dashboards.dashboard.id}


def build_dashboards(
    config: StackConfig, place: Placement, foundation: Foundation, processing: Processing
) -> Dashboards:
    """SQL warehouse, trading dashboard and SQL alerts, through the workspace's provider."""
    dash, db = config.dashboards, config.databricks
    if dash is None or db is None:
        return Dashboards(None)
    w = dash.warehouse
    window = db.jobs.run_window
    dashboards = ServingDashboards(
        place.name("serving-dashboards"),
        ServingDashboardsArgs(
            common=foundation.common,
            provider=processing.workspace.provider,
            object_prefix=object_prefix(config),
            catalog=processing.catalog.catalog.name,
            gold_schema=processing.catalog.schemas["gold"].name,
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
            # With a run window the jobs are paused outside it: the alerts evaluate only inside it, so they
            # do not fire on a gold that is stale by design and the warehouse can auto-stop.
            alert_cron=window.alert_cron(dash.alert_interval_minutes) if window else None,
            alert_timezone=window.timezone if window else None,
            folder=dash.folder,
            # Carries the run_as rule set (the deployer may set the principal), so every alert waits for it.
            run_as_service_principal=processing.runtime.run_as,
            viewers=tuple(dict.fromkeys((*db.grants.consumers, *db.grants.analysts))),
            engineers=tuple(db.grants.engineers),
            slo=slo_alerts_args(config),
            depends_on=processing.catalog.ready,
        ),
        place.opts(),
    )
    return Dashboards(dashboards)


def slo_alerts_args(config: StackConfig) -> SloAlertsArgs | None:
    """`operations.slo` as the gold SLO alerts' args; none without operations or without an e-mail to tell."""
    ops = config.operations
    if ops is None or not ops.action_group.emails:
        return None
    slo = ops.slo
    capacity_p99 = config.capacity.p99_latency_seconds if config.capacity is not None else None
    return SloAlertsArgs(
        freshness_seconds=slo.freshness_seconds,
        p99_latency_seconds=slo.p99_latency(capacity_p99),
        emails=ops.action_group.emails,
        lookback_minutes=slo.latency_window_minutes,
        min_quality_percent=slo.min_quality_percent,
    )
