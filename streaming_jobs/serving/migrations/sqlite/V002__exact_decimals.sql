-- V002: exact decimals (issue 32). SQLite gives a column declared DECIMAL(p,s) or NUMERIC numeric affinity,
-- which stores a decimal text as an 8-byte float when it looks like a number (https://sqlite.org/datatype3.html,
-- "Type Affinity": "only the first 15 significant decimal digits of the number are preserved"), so local gold
-- differed from Azure SQL's exact DECIMAL (1234567767543.2109 read back as 1234567767543.21). The DECIMAL
-- columns are declared DECIMAL_TEXT now: the name holds "TEXT", so the affinity is text and the value is kept
-- as the exact decimal text the job writes; streaming_jobs/serving/connections.SqliteSession reads the type
-- name back (sqlite3.PARSE_DECLTYPES) as Python Decimal. Values already stored as floats stay as they were.
-- SQLite cannot change a column's type: each table is rebuilt and renamed; the views over them are dropped
-- first and created again unchanged (V001's text).

DROP VIEW IF EXISTS gold.v_transaction_count_by_type;
DROP VIEW IF EXISTS gold.v_price_trend;
DROP VIEW IF EXISTS gold.v_cumulative_quantity;
DROP VIEW IF EXISTS gold.v_total_quantity_by_symbol;
DROP VIEW IF EXISTS gold.v_volume_share;
DROP VIEW IF EXISTS gold.v_active_alerts;

CREATE TABLE gold.symbol_window_metrics_v2 (
    window_start     TEXT    NOT NULL,
    window_end       TEXT    NOT NULL,
    symbol           TEXT    NOT NULL,
    trade_count      INTEGER NOT NULL,
    volume           INTEGER NOT NULL,
    notional         DECIMAL_TEXT NOT NULL,
    sum_price        DECIMAL_TEXT NOT NULL,
    avg_price        DECIMAL_TEXT NOT NULL,
    vwap             DECIMAL_TEXT NOT NULL,
    open_price       DECIMAL_TEXT NOT NULL,
    close_price      DECIMAL_TEXT NOT NULL,
    high_price       DECIMAL_TEXT NOT NULL,
    low_price        DECIMAL_TEXT NOT NULL,
    price_change_pct REAL    NOT NULL,
    price_range_pct  REAL    NOT NULL,
    first_event_time TEXT    NOT NULL,
    last_event_time  TEXT    NOT NULL,
    batch_id         INTEGER NOT NULL,
    updated_at       TEXT    NOT NULL,
    PRIMARY KEY (window_start, symbol)
);
INSERT INTO gold.symbol_window_metrics_v2 (window_start, window_end, symbol, trade_count, volume, notional, sum_price, avg_price, vwap, open_price, close_price, high_price, low_price, price_change_pct, price_range_pct, first_event_time, last_event_time, batch_id, updated_at)
SELECT window_start, window_end, symbol, trade_count, volume, notional, sum_price, avg_price, vwap, open_price, close_price, high_price, low_price, price_change_pct, price_range_pct, first_event_time, last_event_time, batch_id, updated_at FROM gold.symbol_window_metrics;
DROP TABLE gold.symbol_window_metrics;
ALTER TABLE gold.symbol_window_metrics_v2 RENAME TO symbol_window_metrics;

CREATE INDEX IF NOT EXISTS gold.ix_symbol_window_metrics_symbol
    ON symbol_window_metrics (symbol, window_start);

CREATE TABLE gold.side_window_metrics_v2 (
    window_start TEXT    NOT NULL,
    window_end   TEXT    NOT NULL,
    side         TEXT    NOT NULL,
    trade_count  INTEGER NOT NULL,
    volume       INTEGER NOT NULL,
    notional     DECIMAL_TEXT NOT NULL,
    batch_id     INTEGER NOT NULL,
    updated_at   TEXT    NOT NULL,
    PRIMARY KEY (window_start, side)
);
INSERT INTO gold.side_window_metrics_v2 (window_start, window_end, side, trade_count, volume, notional, batch_id, updated_at)
SELECT window_start, window_end, side, trade_count, volume, notional, batch_id, updated_at FROM gold.side_window_metrics;
DROP TABLE gold.side_window_metrics;
ALTER TABLE gold.side_window_metrics_v2 RENAME TO side_window_metrics;

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
