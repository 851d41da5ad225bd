"""benchmarks/bench_revisions.py: how two revisions' benchmark reports become medians and a ratio."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from bench_revisions import BenchError, main, resolve, summarise
from bench_streaming import latency_section, measures


def report(silver: float, gold: float, p99: float | None = None) -> dict[str, object]:
    """A bench_streaming --json report with these set medians, built by bench_streaming's own sections."""
    out: dict[str, object] = {
        "cores": 2,
        "throughput": measures({"silver": [silver * 0.9, silver, silver * 1.1], "gold": [gold]}),
    }
    if p99 is not None:
        # The latency section also holds the rate asked for, a number beside the measures.
        runs = {"p50": [p99 / 2], "p99": [p99], "max": [p99 * 2], "achieved_rate": [9_000.0]}
        out["latency"] = latency_section(10_000, runs)
    return out


def test_each_revision_takes_the_median_of_its_set_medians_and_the_ratio_is_after_over_before() -> None:
    before = [report(100_000, 300_000), report(80_000, 280_000), report(90_000, 320_000)]
    after = [report(60_000, 310_000), report(70_000, 330_000), report(200_000, 290_000)]
    s = summarise(before, after)
    assert s["throughput silver"]["before"] == 90_000
    assert s["throughput silver"]["after"] == 70_000  # the median: the outlier set (200,000) does not move it
    assert s["throughput silver"]["ratio"] == pytest.approx(70_000 / 90_000)
    assert s["throughput gold"]["ratio"] == pytest.approx(310_000 / 300_000)
    assert s["throughput silver"]["sets"] == {"before": [100_000, 80_000, 90_000], "after": [60_000, 70_000, 200_000]}
    assert s["throughput silver"]["higher_is_better"] is True


def test_latency_is_a_measure_where_smaller_is_better() -> None:
    s = summarise([report(1, 1, p99=4.0)], [report(1, 1, p99=6.0)])
    assert s["latency p99"]["ratio"] == pytest.approx(1.5)
    assert s["latency p99"]["higher_is_better"] is False
    # The latency section's settings are not measures; its measures all are.
    # The rate the producer achieved is events/s: larger is better there.
    assert s["latency achieved_rate"]["higher_is_better"] is True
    assert {m for m in s if m.startswith("latency")} == {
        "latency p50",
        "latency p99",
        "latency max",
        "latency achieved_rate",
    }


def test_a_measure_only_one_revision_reports_is_left_out() -> None:
    older = {"throughput": {"silver": {"median": 5.0}}}
    s = summarise([older], [report(10, 20)])
    assert set(s) == {"throughput silver"}


def test_a_report_without_figures_or_a_revision_without_sets_is_an_error() -> None:
    with pytest.raises(BenchError, match="neither throughput nor latency"):
        summarise([{"cores": 2}], [report(1, 1)])
    with pytest.raises(BenchError, match="at least one"):
        summarise([], [report(1, 1)])


def test_a_revision_that_names_no_commit_is_refused_by_name_before_anything_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(BenchError, match="'no-such-revision-x' names no commit"):
        resolve("no-such-revision-x")
    assert main(["--before", "no-such-revision-x", "--sets", "1"]) == 2
    assert "'no-such-revision-x' names no commit" in capsys.readouterr().err
