"""Dashboards and alerts as code: a SQL warehouse, the trading dashboard and SQL alerts.

Everything is created through the workspace's Databricks provider:

- a SQL warehouse sized per environment. PRO by default: it runs in the
  workspace's injected VNet and reaches the private lake through its private
  endpoints (serverless would need a network connectivity config);
- a Lakeview (AI/BI) dashboard whose `serialized_dashboard` holds the five
  trading visuals -- transactions by type, price trend per symbol, cumulative
  quantity, total quantity by symbol, share of volume -- plus the latest
  alerts, each a dataset query over the gold tables. Credentials are not
  embedded: a viewer sees what their own Unity Catalog grants allow;
- one SQL alert (AlertV2) per alert rule of the gold job, which fires when
  the gold alerts table holds a row for the rule within the look-back window
  and mails an email notification destination.

The queries read the gold serving views exactly as `streaming_jobs/serving/
schema.py` defines them -- the module the migrations (Azure SQL) and the gold
job's Unity Catalog views are written against -- so the dashboard and Power BI
show the same figures; an unknown view or column fails the preview. The pure
builders (`trading_visuals`, `dashboard_definition`, `alert_query`) render the
same SQL in Databricks SQL or SQLite (the time window is the only difference),
so tests run the dashboard's queries against the migrated local database.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_databricks as dbx

from components.base import CommonArgs, ProviderScopedComponent
from streaming_jobs.serving.schema import GOLD_VIEWS, View

# ----------------------------------------------------------------------------- the gold model

# The dialects a visual's SQL is rendered in: Databricks SQL for the dashboard, SQLite for local tests.
DIALECTS = ("spark", "sqlite")


def _q(identifier: str) -> str:
    """Backquoted identifier: valid in Databricks SQL and SQLite alike."""
    return f"`{identifier}`"


def _since(column: str, minutes: int, dialect: str) -> str:
    """`column` within the last `minutes` -- the one place the two dialects differ."""
    if dialect == "spark":
        return f"{_q(column)} >= current_timestamp() - INTERVAL {int(minutes)} MINUTES"
    if dialect == "sqlite":
        return f"{_q(column)} >= datetime('now', '-{int(minutes)} minutes')"
    raise ValueError(f"unknown dialect {dialect!r}; known: {DIALECTS}")


def _view(name: str) -> View:
    if name not in GOLD_VIEWS:
        raise ValueError(f"no gold view {name!r} in streaming_jobs/serving/schema.py; views: {sorted(GOLD_VIEWS)}")
    return GOLD_VIEWS[name]


def _select(view: View, columns: Sequence[str]) -> str:
    unknown = [c for c in columns if c not in view.columns]
    if unknown:
        raise ValueError(f"gold view {view.name!r} has no columns {unknown}; columns: {list(view.columns)}")
    return ", ".join(_q(c) for c in columns)


# ----------------------------------------------------------------------------- the dashboard


@dataclass(frozen=True)
class Visual:
    """One dataset (a SQL query over one gold view) and the widget that draws it."""

    key: str
    title: str
    view: str  # the gold view it reads (streaming_jobs/serving/schema.py GOLD_VIEWS)
    columns: tuple[str, ...]  # what the dataset selects (all columns of the view)
    sql: str
    widget_type: str  # bar | line | area | pie | table
    encodings: dict[str, Any]


def trading_visuals(*, window_minutes: int = 60, dialect: str = "spark") -> list[Visual]:
    """The five trading visuals and the active-alerts table, one per gold serving view.

    Time series show the last `window_minutes`; totals and shares cover all of gold, like the
    views Power BI reads.
    """

    def axis(name: str, kind: str, display: str) -> dict[str, Any]:
        return {"fieldName": name, "scale": {"type": kind}, "displayName": display}

    def visual(
        key: str,
        title: str,
        view_name: str,
        widget: str,
        encodings: dict[str, Any],
        *,
        recent_by: str | None = None,
        order_by: str | None = None,
        limit: int | None = None,
    ) -> Visual:
        view = _view(view_name)
        columns = view.columns
        sql = f"SELECT {_select(view, columns)} FROM {_q(view.name)}"
        if recent_by:
            _select(view, [recent_by])
            sql += f" WHERE {_since(recent_by, window_minutes, dialect)}"
        if order_by:
            sql += f" ORDER BY {_select(view, [order_by])} DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        for enc in encodings.values():
            for field_name in [c["fieldName"] for c in enc] if isinstance(enc, list) else [enc["fieldName"]]:
                _select(view, [field_name])
        return Visual(key, title, view.name, columns, sql, widget, encodings)

    return [
        visual(
            "transactions_by_type",
            "Transaction count by type",
            "v_transaction_count_by_type",
            "bar",
            {
                "x": axis("window_start", "temporal", "Window"),
                "y": axis("trade_count", "quantitative", "Transactions"),
                "color": axis("side", "categorical", "Type"),
            },
            recent_by="window_start",
        ),
        visual(
            "price_trend",
            "Price trend per symbol",
            "v_price_trend",
            "line",
            {
                "x": axis("window_start", "temporal", "Window"),
                "y": axis("avg_price", "quantitative", "Average price"),
                "color": axis("symbol", "categorical", "Symbol"),
            },
            recent_by="window_start",
        ),
        visual(
            "cumulative_quantity",
            "Cumulative quantity (today)",
            "v_cumulative_quantity",
            "area",
            {
                "x": axis("window_start", "temporal", "Window"),
                "y": axis("cumulative_quantity", "quantitative", "Cumulative quantity"),
            },
            recent_by="window_start",
        ),
        visual(
            "total_quantity_by_symbol",
            "Total quantity by symbol",
            "v_total_quantity_by_symbol",
            "bar",
            {
                "x": axis("symbol", "categorical", "Symbol"),
                "y": axis("total_quantity", "quantitative", "Total quantity"),
            },
        ),
        visual(
            "volume_share",
            "Share of volume",
            "v_volume_share",
            "pie",
            {
                "angle": axis("share_pct", "quantitative", "Share of volume (%)"),
                "color": axis("symbol", "categorical", "Symbol"),
            },
        ),
        visual(
            "active_alerts",
            "Active alerts",
            "v_active_alerts",
            "table",
            {
                "columns": [
                    {"fieldName": c, "displayName": c.replace("_", " ")} for c in _view("v_active_alerts").columns
                ]
            },
            order_by="detected_at",
            limit=200,
        ),
    ]


# Two charts per row on the 6-column grid.
_POSITIONS = {
    "transactions_by_type": (0, 0, 3, 6),
    "price_trend": (3, 0, 3, 6),
    "cumulative_quantity": (0, 6, 3, 6),
    "total_quantity_by_symbol": (3, 6, 3, 6),
    "volume_share": (0, 12, 2, 6),
    "active_alerts": (2, 12, 4, 6),
}
_WIDGET_VERSIONS = {"bar": 3, "line": 3, "area": 3, "pie": 3, "table": 1}


def dashboard_definition(visuals: Sequence[Visual], *, title: str) -> dict[str, Any]:
    """The Lakeview `serialized_dashboard` document: one dataset and one widget per visual."""
    datasets = [{"name": f"ds_{v.key}", "displayName": v.title, "queryLines": [v.sql]} for v in visuals]
    layout: list[dict[str, Any]] = []
    for v in visuals:
        x, y, width, height = _POSITIONS.get(v.key, (0, 18 + 6 * len(layout), 6, 6))
        layout.append(
            {
                "widget": {
                    "name": f"w_{v.key}",
                    "queries": [
                        {
                            "name": "main_query",
                            "query": {
                                "datasetName": f"ds_{v.key}",
                                "fields": [{"name": f, "expression": f"`{f}`"} for f in v.columns],
                                "disaggregated": True,
                            },
                        }
                    ],
                    "spec": {
                        "version": _WIDGET_VERSIONS[v.widget_type],
                        "widgetType": v.widget_type,
                        "encodings": v.encodings,
                        "frame": {"showTitle": True, "title": v.title},
                    },
                },
                "position": {"x": x, "y": y, "width": width, "height": height},
            }
        )
    return {
        "datasets": datasets,
        "pages": [
            {
                "name": "trading",
                "displayName": title,
                "pageType": "PAGE_TYPE_CANVAS",
                "layout": layout,
            }
        ],
    }


# ----------------------------------------------------------------------------- alerts


@dataclass(frozen=True)
class AlertRuleArgs:
    """An alert rule of the gold job (its name is what the gold alerts table records)."""

    name: str
    description: str = ""


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


ALERTS_VIEW = "v_active_alerts"


def alert_query(rule: AlertRuleArgs, *, lookback_minutes: int, prefix: str = "", dialect: str = "spark") -> str:
    """How many (symbol, window) matches of the rule became active within the look-back (fires above 0).

    `prefix` qualifies the view (`catalog`.`schema`.) -- a SQL alert has no default catalog.
    """
    view = _view(ALERTS_VIEW)
    _select(view, ["rule_name", "detected_at"])
    return (
        f"SELECT COUNT(*) AS fired FROM {prefix}{_q(view.name)} "
        f"WHERE {_q('rule_name')} = {_sql_string(rule.name)} AND {_since('detected_at', lookback_minutes, dialect)}"
    )


# ----------------------------------------------------------------------------- the component


@dataclass(frozen=True)
class WarehouseArgs:
    size: str = "2X-Small"
    min_clusters: int = 1
    max_clusters: int = 1
    serverless: bool = False
    auto_stop_minutes: int = 10


@dataclass(frozen=True)
class ServingDashboardsArgs:
    common: CommonArgs
    provider: dbx.Provider
    object_prefix: str  # "rta-dev"
    catalog: pulumi.Input[str]
    gold_schema: pulumi.Input[str]
    warehouse: WarehouseArgs
    notification_emails: Sequence[str]
    alert_rules: Sequence[AlertRuleArgs] = ()
    alert_interval_minutes: int = 1
    alert_lookback_minutes: int = 5
    timezone: str = "UTC"
    folder: str = "/Workspace/Shared/rta-platform"
    window_minutes: int = 60
    # Service principal (application id) the alerts' queries run as; it needs SELECT on gold.
    run_as_service_principal: pulumi.Input[str] | None = None
    # Groups that may use the warehouse and read the dashboard.
    viewers: Sequence[str] = ()
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


class ServingDashboards(ProviderScopedComponent):
    """`warehouse`, `dashboard`, `alerts[rule]`, `notification_destination`; `serialized_dashboard` (a str)."""

    def __init__(self, name: str, args: ServingDashboardsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ServingDashboards", name, args.common, args.provider, opts)
        w = args.warehouse
        prefix = args.object_prefix

        self.warehouse = dbx.SqlEndpoint(
            f"{name}-warehouse",
            name=f"{prefix}-serving",
            cluster_size=w.size,
            min_num_clusters=w.min_clusters,
            max_num_clusters=w.max_clusters,
            auto_stop_mins=w.auto_stop_minutes,
            enable_serverless_compute=w.serverless,
            warehouse_type="PRO",
            enable_photon=True,
            spot_instance_policy="RELIABILITY_OPTIMIZED",
            channel=dbx.SqlEndpointChannelArgs(name="CHANNEL_NAME_CURRENT"),
            tags=dbx.SqlEndpointTagsArgs(
                custom_tags=[
                    dbx.SqlEndpointTagsCustomTagArgs(key=k, value=v)
                    for k, v in sorted(self.tags.items())
                    if k in ("project", "environment", "costCenter")
                ]
            ),
            opts=self._db_opts(args.depends_on),
        )
        # The alerts' principal evaluates its queries on the warehouse: it needs CAN_USE there (and SELECT on
        # gold, which Unity Catalog grants it as the writer). Without it no alert ever evaluates.
        warehouse_users = [
            dbx.PermissionsAccessControlArgs(group_name=g, permission_level="CAN_USE") for g in args.viewers
        ]
        if args.run_as_service_principal is not None:
            warehouse_users.append(
                dbx.PermissionsAccessControlArgs(
                    service_principal_name=args.run_as_service_principal, permission_level="CAN_USE"
                )
            )
        self.warehouse_permissions: dbx.Permissions | None = None
        if warehouse_users:
            self.warehouse_permissions = dbx.Permissions(
                f"{name}-warehouse-permissions",
                sql_endpoint_id=self.warehouse.id,
                access_controls=warehouse_users,
                opts=self._db_opts([self.warehouse]),
            )
        self.folder = dbx.Directory(
            f"{name}-folder", path=args.folder, delete_recursive=False, opts=self._db_opts(args.depends_on)
        )

        visuals = trading_visuals(window_minutes=args.window_minutes)
        self.visuals = visuals
        self.serialized_dashboard: str = json.dumps(
            dashboard_definition(visuals, title="Trading"), sort_keys=True, separators=(",", ":")
        )
        self.dashboard = dbx.Dashboard(
            f"{name}-dashboard",
            display_name=f"{prefix} trading",
            parent_path=self.folder.path,
            warehouse_id=self.warehouse.id,
            serialized_dashboard=self.serialized_dashboard,
            # Unqualified table names in the datasets resolve in the gold schema.
            dataset_catalog=args.catalog,
            dataset_schema=args.gold_schema,
            # Viewers query with their own Unity Catalog grants, never the publisher's.
            embed_credentials=False,
            opts=self._db_opts([self.folder, self.warehouse]),
        )

        self.notification_destination = dbx.NotificationDestination(
            f"{name}-alerts-email",
            display_name=f"{prefix} trading alerts",
            destination_type="EMAIL",
            config=dbx.NotificationDestinationConfigArgs(
                email=dbx.NotificationDestinationConfigEmailArgs(addresses=list(args.notification_emails))
            ),
            opts=self._db_opts(args.depends_on),
        )
        self.alerts: dict[str, dbx.AlertV2] = {}
        for rule in args.alert_rules:
            query = pulumi.Output.all(args.catalog, args.gold_schema).apply(
                lambda cs, r=rule: alert_query(  # type: ignore[misc]
                    r, lookback_minutes=args.alert_lookback_minutes, prefix=f"{_q(cs[0])}.{_q(cs[1])}."
                )
            )
            self.alerts[rule.name] = dbx.AlertV2(
                f"{name}-alert-{rule.name}",
                display_name=f"{prefix} {rule.name}",
                custom_description=rule.description or None,
                parent_path=self.folder.path,
                warehouse_id=self.warehouse.id,
                query_text=query,
                evaluation=dbx.AlertV2EvaluationArgs(
                    source=dbx.AlertV2EvaluationSourceArgs(name="fired"),
                    comparison_operator="GREATER_THAN",
                    threshold=dbx.AlertV2EvaluationThresholdArgs(
                        value=dbx.AlertV2EvaluationThresholdValueArgs(double_value=0)
                    ),
                    empty_result_state="OK",
                    notification=dbx.AlertV2EvaluationNotificationArgs(
                        notify_on_ok=True,
                        retrigger_seconds=args.alert_lookback_minutes * 60,
                        subscriptions=[
                            dbx.AlertV2EvaluationNotificationSubscriptionArgs(
                                destination_id=self.notification_destination.id
                            )
                        ],
                    ),
                ),
                schedule=dbx.AlertV2ScheduleArgs(
                    quartz_cron_schedule=f"0 0/{args.alert_interval_minutes} * * * ?",
                    timezone_id=args.timezone,
                    pause_status="UNPAUSED",
                ),
                run_as=dbx.AlertV2RunAsArgs(service_principal_name=args.run_as_service_principal)
                if args.run_as_service_principal is not None
                else None,
                opts=self._db_opts(
                    [
                        self.folder,
                        self.warehouse,
                        self.notification_destination,
                        *([self.warehouse_permissions] if self.warehouse_permissions else []),
                    ]
                ),
            )

        if args.viewers:
            dbx.Permissions(
                f"{name}-dashboard-permissions",
                dashboard_id=self.dashboard.id,
                access_controls=[
                    dbx.PermissionsAccessControlArgs(group_name=g, permission_level="CAN_RUN") for g in args.viewers
                ],
                opts=self._db_opts([self.dashboard]),
            )

        self.register_outputs(
            {
                "warehouse_id": self.warehouse.id,
                "dashboard_id": self.dashboard.id,
                "alert_ids": {k: a.id for k, a in self.alerts.items()},
            }
        )
