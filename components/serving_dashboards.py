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

The queries are built from `GoldModel`, the gold tables' names and columns as
`streaming_jobs/serving/schema.py` defines them (the same module the DDL is
written against), so the dashboard reads exactly the tables the migrations
create. Pure builders (`dashboard_definition`, `alert_query`) are separate
from the resources so tests can check the SQL without an engine.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_databricks as dbx

from components.base import CommonArgs, PlatformComponent

# ----------------------------------------------------------------------------- the gold model


@dataclass(frozen=True)
class GoldTable:
    """One gold table: its name and the columns the DDL gives it."""

    name: str
    columns: tuple[str, ...]

    def col(self, column: str) -> str:
        """A backquoted column of this table; unknown columns are a programming error, caught at preview."""
        if column not in self.columns:
            raise ValueError(f"gold table {self.name!r} has no column {column!r}; columns: {list(self.columns)}")
        return f"`{column}`"

    @property
    def ref(self) -> str:
        return f"`{self.name}`"


@dataclass(frozen=True)
class GoldModel:
    """The gold tables the visuals and alerts read, and which column plays which part."""

    transactions_by_type: GoldTable
    price_trend: GoldTable
    cumulative_quantity: GoldTable
    quantity_by_symbol: GoldTable
    volume_share: GoldTable
    alerts: GoldTable
    # Column roles (names are checked against each table's columns when a query is built).
    window_end: str = "window_end"
    trade_type: str = "trade_type"
    transaction_count: str = "transaction_count"
    symbol: str = "symbol"
    average_price: str = "avg_price"
    cumulative_quantity_column: str = "cumulative_quantity"
    total_quantity: str = "total_quantity"
    volume_share_column: str = "volume_share"
    alert_time: str = "alert_time"
    alert_rule: str = "rule_name"
    alert_columns: tuple[str, ...] = ()  # shown in the alerts table widget; empty = every column

    def tables(self) -> list[GoldTable]:
        return [
            self.transactions_by_type,
            self.price_trend,
            self.cumulative_quantity,
            self.quantity_by_symbol,
            self.volume_share,
            self.alerts,
        ]


# ----------------------------------------------------------------------------- the dashboard


@dataclass(frozen=True)
class Visual:
    """One dataset (a SQL query over one gold table) and the widget that draws it."""

    key: str
    title: str
    table: GoldTable
    sql: str
    widget_type: str  # bar | line | area | pie | table
    encodings: dict[str, Any]
    fields: tuple[str, ...]  # the dataset columns the widget uses


def _since(column: str, minutes: int) -> str:
    return f"{column} >= current_timestamp() - INTERVAL {int(minutes)} MINUTES"


def trading_visuals(gold: GoldModel, *, window_minutes: int = 60) -> list[Visual]:
    """The five trading visuals and the alerts table, over the gold tables."""
    t, p, c, q, v, a = gold.tables()

    def axis(name: str, kind: str, display: str) -> dict[str, Any]:
        return {"fieldName": name, "scale": {"type": kind}, "displayName": display}

    alert_columns = gold.alert_columns or a.columns
    return [
        Visual(
            "transactions_by_type",
            "Transactions by type",
            t,
            f"SELECT {t.col(gold.trade_type)} AS trade_type, SUM({t.col(gold.transaction_count)}) AS transactions "
            f"FROM {t.ref} WHERE {_since(t.col(gold.window_end), window_minutes)} GROUP BY {t.col(gold.trade_type)}",
            "bar",
            {
                "x": axis("trade_type", "categorical", "Type"),
                "y": axis("transactions", "quantitative", "Transactions"),
            },
            ("trade_type", "transactions"),
        ),
        Visual(
            "price_trend",
            "Price trend per symbol",
            p,
            f"SELECT {p.col(gold.window_end)} AS window_end, {p.col(gold.symbol)} AS symbol, "
            f"{p.col(gold.average_price)} AS avg_price "
            f"FROM {p.ref} WHERE {_since(p.col(gold.window_end), window_minutes)}",
            "line",
            {
                "x": axis("window_end", "temporal", "Time"),
                "y": axis("avg_price", "quantitative", "Average price"),
                "color": axis("symbol", "categorical", "Symbol"),
            },
            ("window_end", "symbol", "avg_price"),
        ),
        Visual(
            "cumulative_quantity",
            "Cumulative quantity",
            c,
            f"SELECT {c.col(gold.window_end)} AS window_end, {c.col(gold.symbol)} AS symbol, "
            f"{c.col(gold.cumulative_quantity_column)} AS cumulative_quantity "
            f"FROM {c.ref} WHERE {_since(c.col(gold.window_end), window_minutes)}",
            "area",
            {
                "x": axis("window_end", "temporal", "Time"),
                "y": axis("cumulative_quantity", "quantitative", "Cumulative quantity"),
                "color": axis("symbol", "categorical", "Symbol"),
            },
            ("window_end", "symbol", "cumulative_quantity"),
        ),
        Visual(
            "quantity_by_symbol",
            "Total quantity by symbol",
            q,
            f"SELECT {q.col(gold.symbol)} AS symbol, {q.col(gold.total_quantity)} AS total_quantity FROM {q.ref}",
            "bar",
            {
                "x": axis("symbol", "categorical", "Symbol"),
                "y": axis("total_quantity", "quantitative", "Total quantity"),
            },
            ("symbol", "total_quantity"),
        ),
        Visual(
            "volume_share",
            "Share of volume",
            v,
            f"SELECT {v.col(gold.symbol)} AS symbol, {v.col(gold.volume_share_column)} AS volume_share FROM {v.ref}",
            "pie",
            {
                "angle": axis("volume_share", "quantitative", "Share of volume"),
                "color": axis("symbol", "categorical", "Symbol"),
            },
            ("symbol", "volume_share"),
        ),
        Visual(
            "latest_alerts",
            "Latest alerts",
            a,
            f"SELECT {', '.join(a.col(col) for col in alert_columns)} FROM {a.ref} "
            f"WHERE {_since(a.col(gold.alert_time), window_minutes)} ORDER BY {a.col(gold.alert_time)} DESC LIMIT 200",
            "table",
            {"columns": [{"fieldName": col, "displayName": col.replace("_", " ")} for col in alert_columns]},
            tuple(alert_columns),
        ),
    ]


# Two charts per row on the 6-column grid; the alerts table spans the full width.
_POSITIONS = {
    "transactions_by_type": (0, 0, 3, 6),
    "price_trend": (3, 0, 3, 6),
    "cumulative_quantity": (0, 6, 3, 6),
    "quantity_by_symbol": (3, 6, 3, 6),
    "volume_share": (0, 12, 3, 6),
    "latest_alerts": (3, 12, 3, 6),
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
                                "fields": [{"name": f, "expression": f"`{f}`"} for f in v.fields],
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


def alert_query(gold: GoldModel, rule: AlertRuleArgs, *, catalog: str, schema: str, lookback_minutes: int) -> str:
    """How many times the rule fired within the look-back window (the alert triggers above 0)."""
    a = gold.alerts
    return (
        f"SELECT COUNT(*) AS fired FROM `{catalog}`.`{schema}`.{a.ref} "
        f"WHERE {a.col(gold.alert_rule)} = {_sql_string(rule.name)} "
        f"AND {_since(a.col(gold.alert_time), lookback_minutes)}"
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
    gold: GoldModel
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


class ServingDashboards(PlatformComponent):
    """`warehouse`, `dashboard`, `alerts[rule]`, `notification_destination`; `serialized_dashboard` (a str)."""

    def __init__(self, name: str, args: ServingDashboardsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ServingDashboards", name, args.common, opts)
        self._provider = args.provider
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
        self.folder = dbx.Directory(
            f"{name}-folder", path=args.folder, delete_recursive=False, opts=self._db_opts(args.depends_on)
        )

        visuals = trading_visuals(args.gold, window_minutes=args.window_minutes)
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
                    args.gold, r, catalog=cs[0], schema=cs[1], lookback_minutes=args.alert_lookback_minutes
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
                opts=self._db_opts([self.folder, self.warehouse, self.notification_destination]),
            )

        if args.viewers:
            dbx.Permissions(
                f"{name}-warehouse-permissions",
                sql_endpoint_id=self.warehouse.id,
                access_controls=[
                    dbx.PermissionsAccessControlArgs(group_name=g, permission_level="CAN_USE") for g in args.viewers
                ],
                opts=self._db_opts([self.warehouse]),
            )
            dbx.Permissions(
                f"{name}-dashboard-permissions",
                dashboard_id=self.dashboard.id,
                access_controls=[
                    dbx.PermissionsAccessControlArgs(group_name=g, permission_level="CAN_READ") for g in args.viewers
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

    def _db_opts(self, depends_on: Sequence[pulumi.Resource]) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._provider, depends_on=list(depends_on))


def gold_model_from_tables(tables: Mapping[str, Sequence[str]], **names: str) -> GoldModel:
    """A GoldModel from {table name: columns}; `names` maps each model slot to its table name."""
    slots = (
        "transactions_by_type",
        "price_trend",
        "cumulative_quantity",
        "quantity_by_symbol",
        "volume_share",
        "alerts",
    )
    missing = [s for s in slots if s not in names]
    if missing:
        raise ValueError(f"no gold table named for {missing}")
    unknown = {s: names[s] for s in slots if names[s] not in tables}
    if unknown:
        raise ValueError(f"gold tables {unknown} are not in the schema (known: {sorted(tables)})")
    roles = {k: v for k, v in names.items() if k not in slots}
    return GoldModel(
        **{s: GoldTable(names[s], tuple(tables[names[s]])) for s in slots},  # type: ignore[arg-type]
        **roles,  # type: ignore[arg-type]
    )
