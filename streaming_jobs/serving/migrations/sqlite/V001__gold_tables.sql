-- V001: gold serving tables, indexes and dashboard views (SQLite: the local and test engine).
-- Same tables, columns and keys as ../tsql/V001__gold_tables.sql; differences are explicit:
--   DATETIME2(3) -> TEXT 'YYYY-MM-DD HH:MM:SS.fff' (UTC), DECIMAL -> NUMERIC, BIT -> INTEGER, FLOAT -> REAL,
--   no INCLUDE columns on indexes, CAST(x AS DATE) -> date(x), no GO batches.
-- The gold database is attached as schema `gold`, so qualified names are the same as in T-SQL.

CREATE TABLE IF NOT EXISTS gold.symbol_window_metrics (
    window_start     TEXT    NOT NULL,
    window_end       TEXT    NOT NULL,
    symbol           TEXT    NOT NULL,
    trade_count      INTEGER NOT NULL,
    volume           INTEGER NOT NULL,
    notional         NUMERIC NOT NULL,
    sum_price        NUMERIC NOT NULL,
    avg_price        NUMERIC NOT NULL,
    vwap             NUMERIC NOT NULL,
    open_price       NUMERIC NOT NULL,
    close_price      NUMERIC NOT NULL,
    high_price       NUMERIC NOT NULL,
    low_price        NUMERIC NOT NULL,
    price_change_pct REAL    NOT NULL,
    price_range_pct  REAL    NOT NULL,
    first_event_time TEXT    NOT NULL,
    last_event_time  TEXT    NOT NULL,
    batch_id         INTEGER NOT NULL,
    updated_at       TEXT    NOT NULL,
    PRIMARY KEY (window_start, symbol)
);

CREATE INDEX IF NOT EXISTS gold.ix_symbol_window_metrics_symbol
    ON symbol_window_metrics (symbol, window_start);

CREATE TABLE IF NOT EXISTS gold.side_window_metrics (
    window_start TEXT    NOT NULL,
    window_end   TEXT    NOT NULL,
    side         TEXT    NOT NULL,
    trade_count  INTEGER NOT NULL,
    volume       INTEGER NOT NULL,
    notional     NUMERIC NOT NULL,
    batch_id     INTEGER NOT NULL,
    updated_at   TEXT    NOT NULL,
    PRIMARY KEY (window_start, side)
);

CREATE TABLE IF NOT EXISTS gold.alerts (
    rule_name      TEXT    NOT NULL,
    symbol         TEXT    NOT NULL,
    window_start   TEXT    NOT NULL,
    window_end     TEXT    NOT NULL,
    metric         TEXT    NOT NULL,
    operator       TEXT    NOT NULL,
    threshold      REAL    NOT NULL,
    metric_value   REAL    NOT NULL,
    active         INTEGER NOT NULL,
    first_batch_id INTEGER NOT NULL,
    detected_at    TEXT    NOT NULL,
    batch_id       INTEGER NOT NULL,
    updated_at     TEXT    NOT NULL,
    PRIMARY KEY (rule_name, symbol, window_start)
);

CREATE INDEX IF NOT EXISTS gold.ix_alerts_window
    ON alerts (window_start, active);

CREATE TABLE IF NOT EXISTS gold.serving_batches (
    query_id     TEXT    NOT NULL,
    batch_id     INTEGER NOT NULL,
    row_count    INTEGER NOT NULL,
    committed_at TEXT    NOT NULL,
    PRIMARY KEY (query_id, batch_id)
);

CREATE VIEW IF NOT EXISTS gold.v_transaction_count_by_type AS
SELECT window_start, window_end, side, trade_count, volume
FROM gold.side_window_metrics;

CREATE VIEW IF NOT EXISTS gold.v_price_trend AS
SELECT window_start, window_end, symbol, avg_price, vwap, open_price, close_price, high_price, low_price,
       price_change_pct
FROM gold.symbol_window_metrics;

CREATE VIEW IF NOT EXISTS gold.v_cumulative_quantity AS
WITH per_window AS (
    SELECT window_start, MAX(window_end) AS window_end, SUM(volume) AS quantity
    FROM gold.side_window_metrics
    GROUP BY window_start
)
SELECT date(window_start) AS trading_day,
       window_start,
       window_end,
       quantity,
       SUM(quantity) OVER (PARTITION BY date(window_start) ORDER BY window_start
                           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cumulative_quantity
FROM per_window;

CREATE VIEW IF NOT EXISTS gold.v_total_quantity_by_symbol AS
SELECT symbol, SUM(volume) AS total_quantity, SUM(trade_count) AS trade_count
FROM gold.symbol_window_metrics
GROUP BY symbol;

CREATE VIEW IF NOT EXISTS gold.v_volume_share AS
SELECT symbol,
       SUM(volume) AS total_quantity,
       100.0 * CAST(SUM(volume) AS REAL) / NULLIF(SUM(SUM(volume)) OVER (), 0) AS share_pct
FROM gold.symbol_window_metrics
GROUP BY symbol;

CREATE VIEW IF NOT EXISTS gold.v_active_alerts AS
SELECT rule_name, symbol, window_start, window_end, metric, operator, threshold, metric_value, detected_at
FROM gold.alerts
WHERE active = 1;
