"""The pure transformations on static DataFrames: boundaries and properties the stream tests cannot pin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: N812

from streaming_jobs import reasons as rc
from streaming_jobs.config import ValidationRules, parse_alert_rules, parse_interval
from streaming_jobs.generator.events import GeneratorConfig, MarketSimulator, Trade, trade_payload
from streaming_jobs.jobs.gold import GoldBatchWriter, SqlGoldSink, gold_frames, sql_batch
from streaming_jobs.serving.connections import SqliteSession
from streaming_jobs.serving.migrate import migrate
from streaming_jobs.serving.schema import ALERTS, GOLD_SCHEMA
from streaming_jobs.transforms.aggregate import window_aggregates
from streaming_jobs.transforms.alerts import evaluate_alerts
from streaming_jobs.transforms.parse import fast_path, parse_events
from streaming_jobs.transforms.validate import quarantine_events, valid_events
from tests.streaming.conftest import ALERT_RULES
from tests.streaming.gold_checks import assert_gold_matches
from tests.streaming.reference import gold_reference

pytestmark = pytest.mark.spark

INGEST = datetime(2026, 3, 2, 14, 30, 0, tzinfo=UTC)
RULES = ValidationRules(symbols=("AAPL", "MSFT"), watermark=parse_interval("30 seconds", "w"))


def _bronze(spark: SparkSession, payloads: list[str]) -> DataFrame:
    rows = [(p, "t", 0, i, None, INGEST.replace(tzinfo=None)) for i, p in enumerate(payloads)]
    return spark.createDataFrame(
        rows, "payload string, topic string, partition int, offset long, source_file string, ingest_time timestamp"
    )


def _classify(spark: SparkSession, payloads: list[str], rules: ValidationRules = RULES) -> list[str]:
    parsed = parse_events(_bronze(spark, payloads))
    valid = {r.offset for r in valid_events(parsed, rules).collect()}
    quarantined = {r.offset: r.reasons for r in quarantine_events(parsed, rules).collect()}
    out = []
    for i in range(len(payloads)):
        assert (i in valid) != (i in quarantined), f"record {i} must be in exactly one of silver and quarantine"
        out.append("VALID" if i in valid else ",".join(quarantined[i]))
    return out


def _trade(event_time: datetime, **overrides: Any) -> str:
    t = Trade("e-1", "AAPL", "BUY", Decimal("100.25"), 10, event_time, "p", 1)
    return (
        trade_payload(t)
        .replace('"symbol":"AAPL"', f'"symbol":"{overrides.get("symbol", "AAPL")}"')
        .replace('"side":"BUY"', f'"side":"{overrides.get("side", "BUY")}"')
    )


def test_lateness_and_future_boundaries(spark: SparkSession) -> None:
    w, skew = timedelta(seconds=30), timedelta(minutes=1)
    ms = timedelta(milliseconds=1)
    got = _classify(
        spark,
        [
            _trade(INGEST - w),  # exactly the watermark late: still counts
            _trade(INGEST - w - ms),
            _trade(INGEST + skew),  # exactly the allowed skew ahead
            _trade(INGEST + skew + ms),
        ],
    )
    assert got == ["VALID", rc.LATE_EVENT, "VALID", rc.out_of_range("event_time")]


def test_symbol_and_side_are_normalised(spark: SparkSession) -> None:
    got = _classify(spark, [_trade(INGEST, symbol=" aapl ", side="sell"), _trade(INGEST, symbol="msft", side="Buy")])
    assert got == ["VALID", "VALID"]
    row = valid_events(parse_events(_bronze(spark, [_trade(INGEST, symbol=" aapl ", side="sell")])), RULES).first()
    assert row is not None and (row.symbol, row.side) == ("AAPL", "SELL")


def test_every_failed_check_is_listed(spark: SparkSession) -> None:
    payload = '{"event_id":"x","symbol":"ZZZ","side":"HOLD","price":-1,"quantity":"many","event_time":"bad"}'
    assert _classify(spark, [payload]) == [
        ",".join(
            [
                rc.bad_type("quantity"),
                rc.bad_type("event_time"),
                rc.out_of_range("price"),
                rc.UNKNOWN_SIDE,
                rc.UNKNOWN_SYMBOL,
            ]
        )
    ]


ODD_PAYLOADS = [
    ("", rc.MALFORMED_JSON),
    ("   ", rc.MALFORMED_JSON),
    ("null", rc.MALFORMED_JSON),
    ("42", rc.MALFORMED_JSON),
    ('"a string"', rc.MALFORMED_JSON),
    ("{}", ",".join(rc.missing(f) for f in rc.REQUIRED_FIELDS)),
    (_trade(INGEST).replace('"e-1"', '"a b"'), rc.bad_type("event_id")),
    (_trade(INGEST).replace('"price":100.25', '"price":"100.25"'), "VALID"),  # a quoted number is still a number
]


def test_odd_payloads(spark: SparkSession) -> None:
    """One Spark job for all of them: each collect costs more than the check."""
    got = _classify(spark, [p for p, _ in ODD_PAYLOADS])
    assert got == [reason for _, reason in ODD_PAYLOADS]


_T = _trade(INGEST)  # {"event_id":"e-1",...,"price":100.25,...,"event_time":"2026-03-02T14:30:00.000Z",...}
_TIME = '"event_time":"2026-03-02T14:30:00.000Z"'
# (payload, verdict): issue 32's shapes. Each was accepted (or read as another value) before the strict parse.
STRICT_PAYLOADS = [
    (_T + _T, rc.MALFORMED_JSON),  # two objects in one message: the second vanished
    (_T + ' {"event_id":"e-2"}', rc.MALFORMED_JSON),
    (_T + " trailing text", rc.MALFORMED_JSON),
    (_T.replace('"price":100.25', '"price":"12,5"'), rc.bad_type("price")),  # was read as 125
    (_T.replace('"price":100.25', '"price":"+100.25"'), rc.bad_type("price")),
    (_T.replace('"price":100.25', '"price":"1\u0660"'), rc.bad_type("price")),  # an Arabic-Indic digit
    (_T.replace('"price":100.25', '"price":100.25,"price":"1,5"'), rc.bad_type("price")),  # the last one counts
    (_T.replace('"price":100.25', '"price":NaN'), rc.MALFORMED_JSON),
    (_T.replace(_TIME, '"event_time":"2026-03-02T14:30:00.000"'), rc.bad_type("event_time")),  # no zone
    (_T.replace(_TIME, '"event_time":"2026-03-02 14:30:00Z"'), rc.bad_type("event_time")),
    (_T.replace(_TIME, '"event_time":1772461800'), rc.bad_type("event_time")),  # epoch seconds
    (_T.replace('"event_id":"e-1"', '"event_id":12345'), rc.bad_type("event_id")),
    (_T.replace('"event_id":"e-1"', '"event_\\u0069d":12345'), rc.bad_type("event_id")),  # an escaped key
    (_T.replace('"producer_id":"p"', '"producer_id":7'), rc.bad_type("producer_id")),
    (_T.replace('"symbol":"AAPL"', '"symbol":true'), f"{rc.bad_type('symbol')},{rc.UNKNOWN_SYMBOL}"),
    # Off the fast path, and valid: the exact checks accept them.
    (_T + "\n", "VALID"),
    (_T.replace('"price":100.25', '"price": "100.25"'), "VALID"),
    (_T.replace('"event_id":"e-1"', '"event_id":"12345"'), "VALID"),
    (_T.replace('"symbol":"AAPL"', '"symbol":"AAP\\u004c","meta":{"a":[1,{"b":"}"}]}'), "VALID"),
    (_T.replace('"price":100.25', '"price":"1,5","price":100.25'), "VALID"),  # the last copy counts (README)
    (_T.replace(_TIME, '"event_time":"2026-03-02T15:30:00.000001+01:00"'), "VALID"),
]


def test_strict_parse(spark: SparkSession) -> None:
    """Issue 32, classes 1-3: one object per message, exact token types, strict number and time text.
    One Spark job for all of them."""
    assert _classify(spark, [p for p, _ in STRICT_PAYLOADS]) == [verdict for _, verdict in STRICT_PAYLOADS]


def test_strict_parse_keeps_the_values(spark: SparkSession) -> None:
    """The payloads accepted off the fast path read as the same trade: price exact, time shifted by its
    offset (not read as UTC), escapes decoded."""
    valid = [p for p, verdict in STRICT_PAYLOADS if verdict == "VALID"]
    rows = valid_events(parse_events(_bronze(spark, valid)), RULES).orderBy("offset").collect()
    assert [(r.event_id, r.symbol, r.price) for r in rows] == [
        ("e-1", "AAPL", Decimal("100.2500")),
        ("e-1", "AAPL", Decimal("100.2500")),
        ("12345", "AAPL", Decimal("100.2500")),
        ("e-1", "AAPL", Decimal("100.2500")),
        ("e-1", "AAPL", Decimal("100.2500")),
        ("e-1", "AAPL", Decimal("100.2500")),
    ]
    assert [r.event_time for r in rows][-1] == (INGEST + timedelta(microseconds=1)).replace(tzinfo=None)


def test_generated_events_take_the_fast_path(spark: SparkSession) -> None:
    """The producers' shape needs no exact check (the cost of the strict parse stays a few byte scans);
    the odd-but-valid shapes above do (but the last: a time offset is checked exactly on either path), so
    test_strict_parse exercises the exact path."""
    sim = MarketSimulator(GeneratorConfig(seed=3, malformed_rate=0, duplicate_rate=0))
    generated = [e.payload for e in sim.events(200, INGEST, 100)]
    odd = [p for p, verdict in STRICT_PAYLOADS if verdict == "VALID"]
    parsed = parse_events(_bronze(spark, generated + odd))
    fast = [r.fast for r in parsed.select(fast_path(F.col("payload"), F.col("evt")).alias("fast")).collect()]
    assert fast == [True] * len(generated) + [False] * (len(odd) - 1) + [True]


def test_invalid_utf8_is_quarantined_with_its_bytes(spark: SparkSession) -> None:
    """Bytes that are not UTF-8 inside an otherwise valid event: never U+FFFD in silver."""
    good = _T.encode()
    bad = good.replace(b'"producer_id":"p"', b'"producer_id":"p\xff\xfe"')
    rows = [(bytearray(b), "t", 0, i, None, INGEST.replace(tzinfo=None)) for i, b in enumerate([good, bad])]
    bronze = spark.createDataFrame(
        rows, "value binary, topic string, partition int, offset long, source_file string, ingest_time timestamp"
    ).select(F.col("value").cast("string").alias("payload"), "*")
    parsed = parse_events(bronze)
    assert [r.offset for r in valid_events(parsed, RULES).collect()] == [0]
    (q,) = quarantine_events(parsed, RULES).select("*", F.col("payload").cast("binary").alias("bytes")).collect()
    assert (q.offset, q.reason, list(q.reasons), bytes(q.bytes)) == (1, rc.INVALID_UTF8, [rc.INVALID_UTF8], bad)


def test_generated_mix_is_split_exactly(spark: SparkSession) -> None:
    sim = MarketSimulator(GeneratorConfig(seed=99, malformed_rate=0.3, late_rate=0.05, late_by=timedelta(hours=1)))
    items = sim.every_malformed_kind(INGEST) + sim.events(400, INGEST - timedelta(seconds=4), 100)
    rules = ValidationRules(symbols=tuple(sim.config.symbols), watermark=parse_interval("10 minutes", "w"))
    got = _classify(spark, [e.payload for e in items], rules)
    assert [g.split(",")[0] for g in got] == [e.expected_reason or "VALID" for e in items]


def test_aggregates_and_alerts_equal_the_reference_on_a_static_frame(spark: SparkSession, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The gold math without streaming: window_aggregates -> the gold writer -> SQLite -> reference."""
    sim = MarketSimulator(GeneratorConfig(seed=5, jump_probability=0.02, duplicate_rate=0, malformed_rate=0))
    trades = [e.trade for e in sim.events(1500, INGEST - timedelta(seconds=40), 40) if e.trade]
    silver = spark.createDataFrame(
        [(t.event_id, t.symbol, t.side, t.price, t.quantity, t.event_time.replace(tzinfo=None)) for t in trades],
        "event_id string, symbol string, side string, price decimal(18,4), quantity long, event_time timestamp",
    )
    window, rules = parse_interval("10 seconds", "w"), parse_alert_rules(ALERT_RULES)
    aggregates = window_aggregates(silver, window, parse_interval("1 minute", "w"))
    db_path = tmp_path / "gold.db"
    db = SqliteSession(db_path)
    migrate(db)
    sink = SqlGoldSink(lambda: SqliteSession(db_path))
    writer = GoldBatchWriter(rules, [sink])
    writer(aggregates, 0)
    snapshot = db.query(f"SELECT * FROM {GOLD_SCHEMA}.symbol_window_metrics ORDER BY 1, 3")
    writer(aggregates, 0)  # the same batch again, through the same code path: skipped, nothing changes
    assert sink.applied == 1 and sink.skipped == 1
    assert db.query(f"SELECT * FROM {GOLD_SCHEMA}.symbol_window_metrics ORDER BY 1, 3") == snapshot
    assert_gold_matches(db, gold_reference(trades, 10, rules))
    db.close()
    sink.close()


def test_alert_expression_is_the_python_rule(spark: SparkSession) -> None:
    rules = parse_alert_rules(ALERT_RULES)
    rows = [("GOOGL", 3000, 1.0, -1.0), ("TSLA", 2999, 0.99, -0.99), ("AAPL", 5000, None, -2.0)]
    df = spark.createDataFrame(
        rows, "symbol string, volume long, price_range_pct double, price_change_pct double"
    ).select(
        "*",
        F.lit(None).cast("timestamp").alias("window_start"),
        F.lit(None).cast("timestamp").alias("window_end"),
        F.lit(0).cast("long").alias("batch_id"),
        F.current_timestamp().alias("updated_at"),
    )
    evaluated = evaluate_alerts(df, rules)
    assert evaluated is not None
    got = {(r.rule_name, r.symbol): r.active for r in evaluated.collect()}
    metrics = {s: {"volume": v, "price_range_pct": pr, "price_change_pct": pc} for s, v, pr, pc in rows}
    expected = {(rule.name, s): rule.matches(metrics[s][rule.metric], s) for rule in rules for s in metrics}
    assert got == expected
    assert got[("volume_surge", "GOOGL")] and not got[("volume_surge", "AAPL")]


def _window_rows(spark: SparkSession, rows: list[tuple[str, str, str, Decimal, int, datetime]]) -> DataFrame:
    silver = spark.createDataFrame(
        [(i, s, side, p, q, t.replace(tzinfo=None)) for i, s, side, p, q, t in rows],
        "event_id string, symbol string, side string, price decimal(18,4), quantity long, event_time timestamp",
    )
    return window_aggregates(silver, parse_interval("10 seconds", "w"), parse_interval("1 minute", "w"))


def test_open_and_close_ties_and_extremes_do_not_depend_on_row_order(spark: SparkSession) -> None:
    t0 = INGEST + timedelta(seconds=1, microseconds=250)
    t1 = INGEST + timedelta(seconds=9, microseconds=999_999)  # the window's last microsecond
    top = Decimal("999999999.9999")  # 10^13 ten-thousandths: far above any configurable max price
    rows = [
        ("z", "AAPL", "BUY", Decimal("101.5000"), 1, t0),  # same instant as the next: the lower price opens
        ("a", "AAPL", "SELL", Decimal("100.0001"), 2, t0),
        ("m", "AAPL", "BUY", Decimal("0.0001"), 3, INGEST + timedelta(seconds=5)),
        ("b", "AAPL", "BUY", Decimal("102.0000"), 4, t1),  # same instant as the next: the higher price closes
        ("c", "AAPL", "SELL", top, 5, t1),
    ]
    results = []
    for ordering in (rows, rows[::-1], rows[2:] + rows[:2]):
        results.append(
            {
                f"{r.grain}:{r.symbol or r.side}": (r.open_price, r.close_price, r.first_event_time, r.last_event_time)
                for r in _window_rows(spark, ordering).collect()
            }
        )
    assert results[0] == results[1] == results[2]
    first, last = t0.replace(tzinfo=None), t1.replace(tzinfo=None)
    assert results[0]["symbol:AAPL"] == (Decimal("100.0001"), top, first, last)
    assert results[0]["side:BUY"] == (Decimal("101.5000"), Decimal("102.0000"), first, last)
    assert results[0]["side:SELL"] == (Decimal("100.0001"), top, first, last)


def test_gold_aggregation_is_a_hash_aggregation(spark: SparkSession) -> None:
    """A struct in the aggregation buffer (min_by over (time, id)) makes Spark sort every row instead."""
    plan = _window_rows(spark, [("a", "AAPL", "BUY", Decimal("1"), 1, INGEST)])._jdf.queryExecution()
    physical = plan.executedPlan().toString()
    assert "HashAggregate" in physical and "SortAggregate" not in physical


def test_an_exact_threshold_fires(spark: SparkSession) -> None:
    """Issue 32, class 6: a move of exactly +5 % (5.65 -> 5.9325: 4.999999999999999 in doubles) is 5 %, and
    a `>= 5` rule fires, in the Spark expression (Delta) and in its Python twin (the SQL sink) alike; a range
    of exactly 5 % (19.99 -> 20.9895: 5.000000000000001 in doubles) is not above 5."""
    t0, t1 = INGEST + timedelta(seconds=1), INGEST + timedelta(seconds=2)
    agg = _window_rows(
        spark,
        [
            ("a", "AAPL", "BUY", Decimal("5.6500"), 1, t0),
            ("b", "AAPL", "SELL", Decimal("5.9325"), 1, t1),
            ("c", "MSFT", "BUY", Decimal("19.9900"), 1, t0),
            ("d", "MSFT", "SELL", Decimal("20.9895"), 1, t1),
        ],
    )
    rules = parse_alert_rules(
        '[{"name": "up5", "metric": "price_change_pct", "operator": ">=", "threshold": 5},'
        ' {"name": "range5", "metric": "price_range_pct", "operator": "<=", "threshold": 5.0}]'
    )
    frames = gold_frames(agg, 0, rules)
    rows = frames.symbol.collect()
    assert {(r.price_change_pct, r.price_range_pct) for r in rows} == {(Decimal(5), Decimal(5))}
    assert frames.alerts is not None
    assert all(r.active for r in frames.alerts.collect())
    hits = sql_batch(frames, "q").rows[ALERTS.name]
    key = (ALERTS.column_names.index("rule_name"), ALERTS.column_names.index("symbol"))
    assert sorted((h[key[0]], h[key[1]]) for h in hits) == [
        ("range5", "AAPL"),
        ("range5", "MSFT"),
        ("up5", "AAPL"),
        ("up5", "MSFT"),
    ]
