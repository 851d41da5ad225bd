"""The generator: deterministic, realistic, and every bad kind it makes has a reason silver gives."""

from __future__ import annotations

import itertools
import json
import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

from streaming_jobs import reasons as rc
from streaming_jobs.generator.events import (
    KIND_DUPLICATE,
    KIND_LATE,
    KIND_VALID,
    MALFORMED_KINDS,
    GeneratorConfig,
    MarketSimulator,
    iso_ms,
    uuid4_text,
)
from streaming_jobs.generator.sinks import LandingDirSink, RateController
from streaming_jobs.schemas import EVENT_FIELDS

NOW = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


def test_same_seed_same_stream() -> None:
    a = [e.payload for e in MarketSimulator(GeneratorConfig(seed=3)).events(500, NOW, 100)]
    b = [e.payload for e in MarketSimulator(GeneratorConfig(seed=3)).events(500, NOW, 100)]
    c = [e.payload for e in MarketSimulator(GeneratorConfig(seed=4)).events(500, NOW, 100)]
    assert a == b and a != c


def test_mix_of_kinds_follows_the_rates() -> None:
    items = MarketSimulator(GeneratorConfig(seed=5)).events(20_000, NOW, 1000)
    kinds = Counter(e.kind.split(":")[0] for e in items)
    assert 300 <= kinds[KIND_DUPLICATE] <= 500  # 2 %
    assert 120 <= kinds[KIND_LATE] <= 280  # 1 %
    assert 300 <= kinds["malformed"] <= 500  # 2 %
    assert kinds[KIND_VALID] > 17_000


def test_every_bad_kind_maps_to_a_known_reason() -> None:
    known = set(rc.all_codes())
    assert set(MALFORMED_KINDS.values()) <= known
    items = MarketSimulator().every_malformed_kind(NOW)
    assert {e.kind.removeprefix("malformed:") for e in items if e.kind.startswith("malformed:")} == set(MALFORMED_KINDS)
    assert all(e.expected_reason in known for e in items)


def test_every_event_field_can_be_a_bad_type() -> None:
    """all_codes lists BAD_TYPE for reasons.EVENT_FIELDS; the validator reports it for schemas.EVENT_FIELDS
    (schema_version too): the two lists must be one."""
    assert rc.EVENT_FIELDS == EVENT_FIELDS


def test_duplicates_are_exact_resends() -> None:
    items = MarketSimulator(GeneratorConfig(seed=9)).events(5000, NOW, 1000)
    sent = {e.payload for e in items if e.kind != KIND_DUPLICATE}
    dups = [e for e in items if e.kind == KIND_DUPLICATE]
    assert dups and all(d.payload in sent for d in dups)


def test_event_ids_are_the_stdlib_v4_uuid_of_the_same_bits() -> None:
    rng = random.Random(12)
    samples = [0, (1 << 128) - 1, *(rng.getrandbits(128) for _ in range(2000))]
    for bits in samples:
        text = uuid4_text(bits)
        assert text == str(uuid.UUID(int=bits, version=4))
        assert uuid.UUID(text).version == 4 and uuid.UUID(text).variant == uuid.RFC_4122


def test_symbol_mix_is_random_choices_of_the_weights() -> None:
    cfg = GeneratorConfig(seed=21, duplicate_rate=0, late_rate=0, late_ok_rate=0, malformed_rate=0)
    sim = MarketSimulator(cfg)
    symbols, weights = list(cfg.symbols), [w for _, w in cfg.symbols.values()]
    for _ in range(500):
        state = sim._rng.getstate()
        expected = random.Random()
        expected.setstate(state)
        trade = sim._next_trade(NOW)
        assert trade.symbol == expected.choices(symbols, weights)[0]


def test_event_time_text_is_utc_milliseconds_whatever_the_zone() -> None:
    t = NOW + timedelta(microseconds=123_456)
    assert iso_ms(t) == "2026-03-02T14:30:00.123Z" == iso_ms(t.astimezone(timezone(timedelta(hours=2))))


def test_valid_payload_round_trips() -> None:
    e = next(e for e in MarketSimulator().events(50, NOW, 10) if e.kind == KIND_VALID)
    assert e.trade is not None
    doc = json.loads(e.payload)
    assert doc["event_id"] == e.trade.event_id and doc["quantity"] == e.trade.quantity
    assert str(e.trade.price) == f"{doc['price']:.2f}"
    assert doc["event_time"].endswith("Z") and doc["side"] in ("BUY", "SELL")


def test_market_has_jumps_and_block_trades() -> None:
    cfg = GeneratorConfig(seed=1, jump_probability=0.01, block_trade_probability=0.01)
    trades = [e.trade for e in MarketSimulator(cfg).events(5000, NOW, 1000) if e.kind == KIND_VALID and e.trade]
    by_symbol: dict[str, list[float]] = {}
    for t in trades:
        by_symbol.setdefault(t.symbol, []).append(float(t.price))
    biggest_move = max(abs(b / a - 1) for p in by_symbol.values() for a, b in itertools.pairwise(p))
    assert biggest_move > 0.03
    assert max(t.quantity for t in trades) > 50 * sorted(t.quantity for t in trades)[len(trades) // 2]


def test_rate_controller_with_bursts() -> None:
    steady = RateController(1000, burst_probability=0.0)
    assert sum(steady.due(i * 0.1, 0.1) for i in range(100)) == 10_000
    bursty = RateController(1000, burst_probability=0.5, seed=2)
    assert sum(bursty.due(i * 0.1, 0.1) for i in range(100)) > 11_000


def test_landing_files_appear_whole(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sink = LandingDirSink(tmp_path)
    items = MarketSimulator().events(10, NOW - timedelta(seconds=1), 10)
    sink.send(items)
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].name.endswith(".jsonl") and not files[0].name.startswith(".")
    assert files[0].read_text().splitlines() == [e.payload for e in items]


def test_cli_sends_the_mix_it_is_given(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """The benchmark's latency producer: no events late on purpose within the watermark, the rest as usual."""
    from streaming_jobs.generator.__main__ import main

    argv = ["--landing", str(tmp_path), "--rate", "20000", "--max-events", "3000", "--burst-probability", "0"]
    assert main([*argv, "--late-ok-rate", "0", "--seed", "5"]) == 0
    without = capsys.readouterr().out
    assert main([*argv, "--seed", "5"]) == 0
    default = capsys.readouterr().out
    assert without.startswith("sent 3000 events") and default.startswith("sent 3000 events")
    assert "late_within_watermark" not in without and "duplicate=" in without
    assert "late_within_watermark=" in default
