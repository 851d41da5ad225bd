-- V001: gold serving tables, indexes and dashboard views (Azure SQL Database, T-SQL).
-- The SQLite variant (../sqlite/V001__gold_tables.sql) defines the same tables, columns and keys;
-- tests/streaming/test_serving_ddl.py checks both against streaming_jobs/serving/schema.py.
-- Applied once by streaming_jobs/serving/migrate.py, which records it in gold.schema_history.
-- Every statement is guarded as well, so a half-applied run (history lost) can be re-run.
-- Batches are separated by GO (CREATE VIEW must start a batch).

IF SCHEMA_ID(N'gold') IS NULL EXEC(N'CREATE SCHEMA gold');
GO

-- Per symbol and event-time window. Key = the upsert's match condition.
IF OBJECT_ID(N'gold.symbol_window_metrics', N'U') IS NULL
CREATE TABLE gold.symbol_window_metrics (
    window_start     DATETIME2(3)  NOT NULL,
    window_end       DATETIME2(3)  NOT NULL,
    symbol           VARCHAR(12)   NOT NULL,
    trade_count      BIGINT        NOT NULL,
    volume           BIGINT        NOT NULL,
    notional         DECIMAL(38,4) NOT NULL,
    sum_price        DECIMAL(38,4) NOT NULL,
    avg_price        DECIMAL(19,6) NOT NULL,
    vwap             DECIMAL(19,6) NOT NULL,
    open_price       DECIMAL(18,4) NOT NULL,
    close_price      DECIMAL(18,4) NOT NULL,
    high_price       DECIMAL(18,4) NOT NULL,
    low_price        DECIMAL(18,4) NOT NULL,
    price_change_pct FLOAT         NOT NULL,
    price_range_pct  FLOAT         NOT NULL,
    first_event_time DATETIME2(3)  NOT NULL,
    last_event_time  DATETIME2(3)  NOT NULL,
    batch_id         BIGINT        NOT NULL,
    updated_at       DATETIME2(3)  NOT NULL,
    CONSTRAINT pk_symbol_window_metrics PRIMARY KEY CLUSTERED (window_start, symbol)
);
GO

-- Price trend of one symbol over a time range (the dashboard's per-symbol line chart).
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'ix_symbol_window_metrics_symbol'
               AND object_id = OBJECT_ID(N'gold.symbol_window_metrics'))
CREATE NONCLUSTERED INDEX ix_symbol_window_metrics_symbol
    ON gold.symbol_window_metrics (symbol, window_start) INCLUDE (avg_price, volume);
GO

-- Per transaction type (BUY/SELL) and window; summed over the types it gives the window totals.
IF OBJECT_ID(N'gold.side_window_metrics', N'U') IS NULL
CREATE TABLE gold.side_window_metrics (
    window_start DATETIME2(3)  NOT NULL,
    window_end   DATETIME2(3)  NOT NULL,
    side         VARCHAR(8)    NOT NULL,
    trade_count  BIGINT        NOT NULL,
    volume       BIGINT        NOT NULL,
    notional     DECIMAL(38,4) NOT NULL,
    batch_id     BIGINT        NOT NULL,
    updated_at   DATETIME2(3)  NOT NULL,
    CONSTRAINT pk_side_window_metrics PRIMARY KEY CLUSTERED (window_start, side)
);
GO

-- Alert rule matches; first_batch_id / detected_at are written on insert only.
IF OBJECT_ID(N'gold.alerts', N'U') IS NULL
CREATE TABLE gold.alerts (
    rule_name      VARCHAR(63)  NOT NULL,
    symbol         VARCHAR(12)  NOT NULL,
    window_start   DATETIME2(3) NOT NULL,
    window_end     DATETIME2(3) NOT NULL,
    metric         VARCHAR(32)  NOT NULL,
    operator       VARCHAR(2)   NOT NULL,
    threshold      FLOAT        NOT NULL,
    metric_value   FLOAT        NOT NULL,
    active         BIT          NOT NULL,
    first_batch_id BIGINT       NOT NULL,
    detected_at    DATETIME2(3) NOT NULL,
    batch_id       BIGINT       NOT NULL,
    updated_at     DATETIME2(3) NOT NULL,
    CONSTRAINT pk_alerts PRIMARY KEY CLUSTERED (rule_name, symbol, window_start)
);
GO

-- Latest alerts first (dashboard table, SQL alerts polling a lookback window).
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'ix_alerts_window'
               AND object_id = OBJECT_ID(N'gold.alerts'))
CREATE NONCLUSTERED INDEX ix_alerts_window
    ON gold.alerts (window_start, active) INCLUDE (rule_name, symbol, metric_value);
GO

-- Ledger of applied gold micro-batches: a replayed batch is found here and skipped.
IF OBJECT_ID(N'gold.serving_batches', N'U') IS NULL
CREATE TABLE gold.serving_batches (
    query_id     VARCHAR(64)  NOT NULL,
    batch_id     BIGINT       NOT NULL,
    row_count    BIGINT       NOT NULL,
    committed_at DATETIME2(3) NOT NULL,
    CONSTRAINT pk_serving_batches PRIMARY KEY CLUSTERED (query_id, batch_id)
);
GO

-- Dashboard views: one per visual.
CREATE OR ALTER VIEW gold.v_transaction_count_by_type AS
SELECT window_start, window_end, side, trade_count, volume
FROM gold.side_window_metrics;
GO

CREATE OR ALTER VIEW gold.v_price_trend AS
SELECT window_start, window_end, symbol, avg_price, vwap, open_price, close_price, high_price, low_price,
       price_change_pct
FROM gold.symbol_window_metrics;
GO

CREATE OR ALTER VIEW gold.v_cumulative_quantity AS
WITH per_window AS (
    SELECT window_start, MAX(window_end) AS window_end, SUM(volume) AS quantity
    FROM gold.side_window_metrics
    GROUP BY window_start
)
SELECT CAST(window_start AS DATE) AS trading_day,
       window_start,
       window_end,
       quantity,
       SUM(quantity) OVER (PARTITION BY CAST(window_start AS DATE) ORDER BY window_start
                           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cumulative_quantity
FROM per_window;
GO

CREATE OR ALTER VIEW gold.v_total_quantity_by_symbol AS
SELECT symbol, SUM(volume) AS total_quantity, SUM(trade_count) AS trade_count
FROM gold.symbol_window_metrics
GROUP BY symbol;
GO

CREATE OR ALTER VIEW gold.v_volume_share AS
SELECT symbol,
       SUM(volume) AS total_quantity,
       100.0 * CAST(SUM(volume) AS FLOAT) / NULLIF(SUM(SUM(volume)) OVER (), 0) AS share_pct
FROM gold.symbol_window_metrics
GROUP BY symbol;
GO

CREATE OR ALTER VIEW gold.v_active_alerts AS
SELECT rule_name, symbol, window_start, window_end, metric, operator, threshold, metric_value, detected_at
FROM gold.alerts
WHERE active = 1;
GO
