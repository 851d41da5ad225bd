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
  and mails an email notification destination;
- with `operations.slo` (`slo`), three streaming-SLO alerts, mailing the
  action group's addresses: freshness (the newest event gold shows is older
  than the SLO), end-to-end latency p99 (the highest p99 the gold job
  published for its batches over the look-back, from the `pipeline_metrics`
  table) and data quality (accepted records over accepted plus quarantined,
  from the gold `v_data_quality` view, below the SLO);
- a pipeline-health dashboard (records per stage per minute, latency p50/p99
  and SQL serving lag per gold batch, source backlog per stage, query starts
  per hour, data quality and quarantine by reason), run by the engineers'
  groups. The metrics table and the data-quality view are the jobs'
  (streaming_jobs/ops_metrics.py): the gold job creates the view, every job
  creates the table if missing and appends a row per micro-batch.

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
from streaming_jobs.ops_metrics import (
    ACCEPTED,
    METRICS_TABLE,
    QUALITY_VIEW,
    QUALITY_VIEW_HORIZON_MINUTES,
    QUARANTINED,
)
from streaming_jobs.serving.schema import GOLD_VIEWS, SYMBOL_WINDOW_METRICS, View

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
    "stage_throughput": (0, 0, 6, 6),
    "latency": (0, 6, 3, 6),
    "data_quality": (3, 6, 3, 6),
    "quarantine_by_reason": (0, 12, 3, 6),
    "backlog": (3, 12, 3, 6),
    "serving_lag": (0, 18, 3, 6),
    "query_starts": (3, 18, 3, 6),
}
_WIDGET_VERSIONS = {"bar": 3, "line": 3, "area": 3, "pie": 3, "table": 1}


def dashboard_definition(visuals: Sequence[Visual], *, title: str, page: str = "trading") -> dict[str, Any]:
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
                "name": page,
                "displayName": title,
                "pageType": "PAGE_TYPE_CANVAS",
                "layout": layout,
            }
        ],
    }


# ----------------------------------------------------------------------------- pipeline health

# The Delta tables the streaming jobs write (streaming_jobs/io/delta.py; named here so the Pulumi program does
# not import PySpark; tests/test_operations.py holds the two lists equal). Unqualified: the dashboard's
# datasets resolve in the stack's catalog (`dataset_catalog`), gold's tables in its schema.
BRONZE = "`bronze`.`trades_raw`"
SILVER_SCHEMA = "`silver`"
SILVER = f"{SILVER_SCHEMA}.`trades`"
QUARANTINE = f"{SILVER_SCHEMA}.`trades_quarantine`"


def _serialized(definition: dict[str, Any]) -> str:
    """A dashboard definition as the dashboard resource takes it: compact JSON, keys sorted."""
    return json.dumps(definition, sort_keys=True, separators=(",", ":"))


def _per_minute(table: str, time_column: str, value: str, window_minutes: int, *extra: str) -> str:
    columns = ", ".join((f"date_trunc('MINUTE', {_q(time_column)}) AS minute", *extra, value))
    return f"SELECT {columns} FROM {table} WHERE {_since(time_column, window_minutes, 'spark')} GROUP BY ALL"


def quality_sql(window_minutes: int, *, per_minute: bool, prefix: str = "") -> str:
    """Accepted over accepted plus quarantined records, in percent, per minute of bronze arrival or over the
    whole window, read from the gold data-quality view (streaming_jobs/ops_metrics.py QUALITY_VIEW): the
    dashboard tile and the quality alert read the same view. `prefix` qualifies it (`catalog`.`schema`.)."""
    accepted = f"CASE WHEN {_q('outcome')} = '{ACCEPTED}' THEN {_q('records')} ELSE 0 END"
    pct = f"100.0 * SUM({accepted}) / SUM({_q('records')})"
    source = f"FROM {prefix}{_q(QUALITY_VIEW)} WHERE {_since('window_start', window_minutes, 'spark')}"
    if per_minute:
        return f"SELECT {_q('window_start')} AS minute, {pct} AS quality_pct {source} GROUP BY {_q('window_start')}"
    # No record in the window: no result row (the freshness alert covers a silent pipeline), not a NULL figure.
    return f"SELECT quality_pct FROM (SELECT {pct} AS quality_pct {source}) AS q WHERE quality_pct IS NOT NULL"


def _metrics(columns: str, where: str, window_minutes: int, time_column: str = "batch_timestamp") -> str:
    """A query over the jobs' pipeline_metrics table (streaming_jobs/ops_metrics.py) in the window."""
    return f"SELECT {columns} FROM {_q(METRICS_TABLE)} WHERE {where} AND {_since(time_column, window_minutes, 'spark')}"


# Query starts are counted over the last day, by hour; a run's first batch is looked for an hour further
# back, so a run already going at the start of the day is not counted as starting then.
RESTARTS_HOURS = 24


def pipeline_health_visuals(*, window_minutes: int = 60) -> list[Visual]:
    """The pipeline-health page, over the last `window_minutes` (query starts: the last day): records per
    stage per minute, latency p50/p99 per gold batch and SQL serving lag (published by the jobs), source
    backlog per stage, data quality and quarantine by reason (the gold data-quality view), query starts per
    stage and hour (Databricks SQL only: they read bronze and silver too)."""

    def axis(name: str, kind: str, display: str) -> dict[str, Any]:
        return {"fieldName": name, "scale": {"type": kind}, "displayName": display}

    time_series = {"x": axis("minute", "temporal", "Minute")}
    batches = {"x": axis("batch_timestamp", "temporal", "Gold batch")}
    stages = " UNION ALL ".join(
        f"SELECT * FROM ({_per_minute(table, column, 'COUNT(*) AS records', window_minutes, f'{stage!r} AS stage')})"
        f" AS s{i}"
        for i, (stage, table, column) in enumerate(
            (
                ("bronze", BRONZE, "ingest_time"),
                ("silver", SILVER, "ingest_time"),
                ("quarantine", QUARANTINE, "ingest_time"),
                ("gold rows", _q(SLO_TABLE.name), "updated_at"),
            )
        )
    )
    gold = "stage = 'gold'"
    percentiles = " UNION ALL ".join(
        _metrics(
            f"batch_timestamp, '{label}' AS percentile, {column} AS seconds",
            f"{gold} AND {column} IS NOT NULL",
            window_minutes,
        )
        for label, column in (("p50", "latency_p50_seconds"), ("p99", "latency_p99_seconds"))
    )
    backlog = " UNION ALL ".join(
        _metrics(
            f"date_trunc('MINUTE', batch_timestamp) AS minute, concat(stage, ' ({unit})') AS source, "
            f"MAX({column}) AS backlog",
            f"{column} IS NOT NULL",
            window_minutes,
        )
        + " GROUP BY ALL"
        for unit, column in (("Kafka offsets behind", "max_offsets_behind"), ("Delta files behind", "files_behind"))
    )
    runs = (
        _metrics("stage, run_id, MIN(batch_timestamp) AS started", "TRUE", (RESTARTS_HOURS + 1) * 60)
        + " GROUP BY stage, run_id"
    )
    starts = (
        f"SELECT date_trunc('HOUR', started) AS hour, stage, COUNT(*) AS starts FROM ({runs}) AS runs "
        f"WHERE {_since('started', RESTARTS_HOURS * 60, 'spark')} GROUP BY ALL"
    )
    reasons = (
        f"SELECT {_q('reason')}, SUM({_q('records')}) AS records FROM {_q(QUALITY_VIEW)} "
        f"WHERE {_q('outcome')} = '{QUARANTINED}' AND {_since('window_start', window_minutes, 'spark')} "
        "GROUP BY ALL ORDER BY records DESC"
    )
    return [
        Visual(
            "stage_throughput",
            "Records per minute by stage",
            "bronze, silver, quarantine, gold",
            ("minute", "stage", "records"),
            f"SELECT minute, stage, records FROM ({stages}) AS stages",
            "line",
            {
                **time_series,
                "y": axis("records", "quantitative", "Records"),
                "color": axis("stage", "categorical", "Stage"),
            },
        ),
        Visual(
            "latency",
            "End-to-end latency per gold batch, at its serving commit (s)",
            METRICS_TABLE,
            ("batch_timestamp", "percentile", "seconds"),
            f"SELECT batch_timestamp, percentile, seconds FROM ({percentiles}) AS latency",
            "line",
            {
                **batches,
                "y": axis("seconds", "quantitative", "Seconds"),
                "color": axis("percentile", "categorical", "Percentile"),
            },
        ),
        Visual(
            "data_quality",
            "Data quality (% accepted)",
            QUALITY_VIEW,
            ("minute", "quality_pct"),
            quality_sql(window_minutes, per_minute=True),
            "line",
            {**time_series, "y": axis("quality_pct", "quantitative", "% accepted")},
        ),
        Visual(
            "quarantine_by_reason",
            "Quarantined records by reason",
            QUALITY_VIEW,
            ("reason", "records"),
            reasons,
            "bar",
            {"x": axis("reason", "categorical", "Reason"), "y": axis("records", "quantitative", "Records")},
        ),
        Visual(
            "backlog",
            "Source backlog by stage",
            METRICS_TABLE,
            ("minute", "source", "backlog"),
            f"SELECT minute, source, backlog FROM ({backlog}) AS backlog",
            "line",
            {
                **time_series,
                "y": axis("backlog", "quantitative", "Behind"),
                "color": axis("source", "categorical", "Stage (unit)"),
            },
        ),
        Visual(
            "serving_lag",
            "SQL serving lag per gold batch (s)",
            METRICS_TABLE,
            ("batch_timestamp", "serving_lag_seconds"),
            _metrics(
                "batch_timestamp, serving_lag_seconds", f"{gold} AND serving_lag_seconds IS NOT NULL", window_minutes
            ),
            "line",
            {**batches, "y": axis("serving_lag_seconds", "quantitative", "Seconds")},
        ),
        Visual(
            "query_starts",
            "Query starts per hour (each restart is a new run id)",
            METRICS_TABLE,
            ("hour", "stage", "starts"),
            starts,
            "bar",
            {
                "x": axis("hour", "temporal", "Hour"),
                "y": axis("starts", "quantitative", "Starts"),
                "color": axis("stage", "categorical", "Stage"),
            },
        ),
    ]


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


# ----------------------------------------------------------------------------- streaming SLOs

# The gold table the SLO figures read: every row carries its newest event's time (`last_event_time`) and the
# micro-batch that last wrote it (`updated_at`, the batch's timestamp; streaming_jobs/serving/schema.py).
SLO_TABLE = SYMBOL_WINDOW_METRICS


def _seconds_between(later: str, earlier: str, dialect: str) -> str:
    if dialect == "spark":
        return f"(unix_millis({later}) - unix_millis({earlier})) / 1000.0"
    if dialect == "sqlite":
        return f"(julianday({later}) - julianday({earlier})) * 86400.0"
    raise ValueError(f"unknown dialect {dialect!r}; known: {DIALECTS}")


def _slo_columns(*columns: str) -> None:
    unknown = [c for c in columns if c not in SLO_TABLE.column_names]
    if unknown:
        raise ValueError(f"gold table {SLO_TABLE.name!r} has no columns {unknown}")


def freshness_query(*, prefix: str = "", dialect: str = "spark") -> str:
    """Seconds since the newest event gold shows (`staleness_seconds`): the freshness SLO's figure.

    An empty table yields no row (not a NULL figure), so the alert's empty-result state decides it."""
    _slo_columns("last_event_time")
    now = "current_timestamp()" if dialect == "spark" else "'now'"
    newest = f"MAX({_q('last_event_time')})"
    return (
        f"SELECT staleness_seconds FROM (SELECT {_seconds_between(now, newest, dialect)} AS staleness_seconds "
        f"FROM {prefix}{_q(SLO_TABLE.name)}) AS newest WHERE staleness_seconds IS NOT NULL"
    )


def latency_query(*, lookback_minutes: int, prefix: str = "") -> str:
    """The end-to-end latency p99 the gold job published (`latency_p99_seconds`) over the look-back: the
    highest of its batches' p99s, measured at each batch's serving commit (streaming_jobs/ops_metrics.py),
    and how many batches that covers (`batches`).

    The highest batch p99 bounds the window's p99 from above: if every batch kept 99 % of its events under
    a figure, so did the window. The alert therefore never misses a breach of the objective; a single
    slow batch can make it fire while the window as a whole still meets it. `prefix` qualifies the table
    (`catalog`.`schema`.): a SQL alert has no default catalog."""
    figures = (
        "SELECT MAX(latency_p99_seconds) AS latency_p99_seconds, COUNT(*) AS batches "
        f"FROM {prefix}{_q(METRICS_TABLE)} WHERE stage = 'gold' AND latency_p99_seconds IS NOT NULL "
        f"AND {_since('batch_timestamp', lookback_minutes, 'spark')}"
    )
    # No batch published in the look-back: no result row (the freshness alert covers a silent pipeline).
    return f"SELECT * FROM ({figures}) AS figures WHERE latency_p99_seconds IS NOT NULL"


@dataclass(frozen=True)
class SloAlertsArgs:
    """The streaming SLOs the gold table is held to, and who is told (the action group's addresses)."""

    freshness_seconds: float
    p99_latency_seconds: float
    emails: Sequence[str]
    lookback_minutes: int = 15
    min_quality_percent: float = 99.5


@dataclass(frozen=True)
class _AlertSpec:
    key: str
    display_name: str
    description: str | None
    query: pulumi.Input[str]
    column: str
    threshold: float
    # What an empty result means: OK (no rule match, nothing written in the window) or TRIGGERED (no data).
    empty_result_state: str = "OK"
    operator: str = "GREATER_THAN"
    retrigger_seconds: int = 300


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
    # When the alerts evaluate (Quartz cron) and in which time zone; None: every `alert_interval_minutes`
    # around the clock in `timezone`. A stack with a run window confines them to it (RunWindowConfig.alert_cron).
    alert_cron: str | None = None
    alert_timezone: str | None = None
    folder: str = "/Workspace/Shared/rta-platform"
    window_minutes: int = 60
    # Service principal (application id) the alerts' queries run as; it needs SELECT on gold.
    run_as_service_principal: pulumi.Input[str] | None = None
    # Groups that may use the warehouse and read the dashboard.
    viewers: Sequence[str] = ()
    # Groups that run the pipeline-health dashboard (they read bronze, silver and gold).
    engineers: Sequence[str] = ()
    slo: SloAlertsArgs | None = None
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


class ServingDashboards(ProviderScopedComponent):
    """`warehouse`, `dashboard`, `alerts[rule]`, `notification_destination`; `serialized_dashboard` (a str)."""

    def __init__(self, name: str, args: ServingDashboardsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ServingDashboards", name, args.common, args.provider, opts)
        windows = {
            "window_minutes": args.window_minutes,
            "slo.lookback_minutes": args.slo.lookback_minutes if args.slo else 0,
        }
        beyond = {k: v for k, v in windows.items() if v > QUALITY_VIEW_HORIZON_MINUTES}
        if beyond:
            raise ValueError(
                f"{name}: {beyond} reach past the data-quality view's {QUALITY_VIEW_HORIZON_MINUTES} minutes "
                "(streaming_jobs/ops_metrics.py QUALITY_VIEW_HORIZON_MINUTES)"
            )
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
            dbx.PermissionsAccessControlArgs(group_name=g, permission_level="CAN_USE")
            for g in dict.fromkeys((*args.viewers, *args.engineers))
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
        self.serialized_dashboard: str = _serialized(dashboard_definition(visuals, title="Trading"))
        self.dashboard = self._dashboard(f"{name}-dashboard", f"{prefix} trading", self.serialized_dashboard, args)

        # The pipeline-health page: its own dashboard, read by the engineers (it reads bronze and silver too).
        self.pipeline_visuals = pipeline_health_visuals(window_minutes=args.window_minutes)
        self.serialized_pipeline_dashboard: str = _serialized(
            dashboard_definition(self.pipeline_visuals, title="Pipeline health", page="pipeline_health")
        )
        self.pipeline_dashboard = self._dashboard(
            f"{name}-pipeline-dashboard", f"{prefix} pipeline health", self.serialized_pipeline_dashboard, args
        )
        self.grant_groups(
            f"{name}-pipeline-dashboard-permissions",
            self.pipeline_dashboard,
            args.engineers,
            "CAN_RUN",
            dashboard_id=self.pipeline_dashboard.id,
        )

        self.notification_destination = self._email_destination(
            f"{name}-alerts-email", f"{prefix} trading alerts", args.notification_emails, args.depends_on
        )
        self.alerts: dict[str, dbx.AlertV2] = {}
        for rule in args.alert_rules:
            query = pulumi.Output.all(args.catalog, args.gold_schema).apply(
                lambda cs, r=rule: alert_query(  # type: ignore[misc]
                    r, lookback_minutes=args.alert_lookback_minutes, prefix=f"{_q(cs[0])}.{_q(cs[1])}."
                )
            )
            spec = _AlertSpec(
                rule.name,
                f"{prefix} {rule.name}",
                rule.description or None,
                query,
                "fired",
                0,
                retrigger_seconds=args.alert_lookback_minutes * 60,
            )
            self.alerts[rule.name] = self._alert(f"{name}-alert-{rule.name}", spec, args, self.notification_destination)

        self.ops_destination: dbx.NotificationDestination | None = None
        self.slo_alerts: dict[str, dbx.AlertV2] = {}
        if args.slo is not None:
            self._slo_alerts(name, args, args.slo)

        self.grant_groups(
            f"{name}-dashboard-permissions", self.dashboard, args.viewers, "CAN_RUN", dashboard_id=self.dashboard.id
        )

        self.register_outputs(
            {
                "warehouse_id": self.warehouse.id,
                "dashboard_id": self.dashboard.id,
                "pipeline_dashboard_id": self.pipeline_dashboard.id,
                "alert_ids": {k: a.id for k, a in self.alerts.items()},
                "slo_alert_ids": {k: a.id for k, a in self.slo_alerts.items()},
            }
        )

    def _email_destination(
        self, logical_name: str, display_name: str, emails: Sequence[str], depends_on: Sequence[pulumi.Resource]
    ) -> dbx.NotificationDestination:
        """A Databricks e-mail notification destination (alerts notify destinations, not addresses)."""
        return dbx.NotificationDestination(
            logical_name,
            display_name=display_name,
            destination_type="EMAIL",
            config=dbx.NotificationDestinationConfigArgs(
                email=dbx.NotificationDestinationConfigEmailArgs(addresses=list(emails))
            ),
            opts=self._db_opts(depends_on),
        )

    def _slo_alerts(self, name: str, args: ServingDashboardsArgs, slo: SloAlertsArgs) -> None:
        """Freshness and latency-p99 alerts over the gold table, mailing the on-call (the action group's
        addresses: Databricks notifies its own destinations, never an Azure action group)."""
        self.ops_destination = self._email_destination(
            f"{name}-slo-email", f"{args.object_prefix} streaming SLO", slo.emails, args.depends_on
        )
        gold = pulumi.Output.all(args.catalog, args.gold_schema).apply(lambda cs: f"{_q(cs[0])}.{_q(cs[1])}.")
        specs = (
            _AlertSpec(
                "freshness",
                f"{args.object_prefix} SLO freshness",
                f"The newest event in gold is older than {slo.freshness_seconds:g} s (operations.slo.freshnessSeconds)",
                gold.apply(lambda p: freshness_query(prefix=p)),
                "staleness_seconds",
                slo.freshness_seconds,
                # An empty gold table is a pipeline that delivers nothing.
                empty_result_state="TRIGGERED",
                retrigger_seconds=slo.lookback_minutes * 60,
            ),
            _AlertSpec(
                "latencyP99",
                f"{args.object_prefix} SLO latency p99",
                f"End-to-end latency p99 over {slo.lookback_minutes} min above {slo.p99_latency_seconds:g} s "
                "(operations.slo.p99LatencySeconds)",
                gold.apply(lambda p: latency_query(lookback_minutes=slo.lookback_minutes, prefix=p)),
                "latency_p99_seconds",
                slo.p99_latency_seconds,
                retrigger_seconds=slo.lookback_minutes * 60,
            ),
        )
        quality = _AlertSpec(
            "quality",
            f"{args.object_prefix} SLO data quality",
            f"Accepted records below {slo.min_quality_percent:g} % over {slo.lookback_minutes} min "
            "(operations.slo.minQualityPercent)",
            # The gold data-quality view the dashboard's tile reads, qualified with the stack's catalog and gold
            # schema (the query depends on the schema, so the access-path check sees what it reads).
            gold.apply(lambda p: quality_sql(slo.lookback_minutes, per_minute=False, prefix=p)),
            "quality_pct",
            slo.min_quality_percent,
            operator="LESS_THAN",
            retrigger_seconds=slo.lookback_minutes * 60,
        )
        for spec in (*specs, quality):
            self.slo_alerts[spec.key] = self._alert(f"{name}-slo-{spec.key}", spec, args, self.ops_destination)

    def _dashboard(
        self, logical_name: str, display_name: str, serialized: str, args: ServingDashboardsArgs
    ) -> dbx.Dashboard:
        """A dashboard in the platform folder, querying through the serving warehouse."""
        return dbx.Dashboard(
            logical_name,
            display_name=display_name,
            parent_path=self.folder.path,
            warehouse_id=self.warehouse.id,
            serialized_dashboard=serialized,
            # Unqualified table names in the datasets resolve in the gold schema.
            dataset_catalog=args.catalog,
            dataset_schema=args.gold_schema,
            # Viewers query with their own Unity Catalog grants, never the publisher's.
            embed_credentials=False,
            opts=self._db_opts([self.folder, self.warehouse]),
        )

    def _alert(
        self,
        resource_name: str,
        spec: _AlertSpec,
        args: ServingDashboardsArgs,
        destination: dbx.NotificationDestination,
    ) -> dbx.AlertV2:
        """A SQL alert on the warehouse: fires when the query's `spec.column` is above `spec.threshold`."""
        return dbx.AlertV2(
            resource_name,
            display_name=spec.display_name,
            custom_description=spec.description,
            parent_path=self.folder.path,
            warehouse_id=self.warehouse.id,
            query_text=spec.query,
            evaluation=dbx.AlertV2EvaluationArgs(
                source=dbx.AlertV2EvaluationSourceArgs(name=spec.column),
                comparison_operator=spec.operator,
                threshold=dbx.AlertV2EvaluationThresholdArgs(
                    value=dbx.AlertV2EvaluationThresholdValueArgs(double_value=spec.threshold)
                ),
                empty_result_state=spec.empty_result_state,
                notification=dbx.AlertV2EvaluationNotificationArgs(
                    notify_on_ok=True,
                    retrigger_seconds=spec.retrigger_seconds,
                    subscriptions=[dbx.AlertV2EvaluationNotificationSubscriptionArgs(destination_id=destination.id)],
                ),
            ),
            schedule=dbx.AlertV2ScheduleArgs(
                quartz_cron_schedule=args.alert_cron or f"0 0/{args.alert_interval_minutes} * * * ?",
                timezone_id=args.alert_timezone or args.timezone,
                pause_status="UNPAUSED",
            ),
            run_as=dbx.AlertV2RunAsArgs(service_principal_name=args.run_as_service_principal)
            if args.run_as_service_principal is not None
            else None,
            opts=self._db_opts(
                [
                    self.folder,
                    self.warehouse,
                    destination,
                    *([self.warehouse_permissions] if self.warehouse_permissions else []),
                ]
            ),
        )
