"""The strict text grammars of transforms/parse.py, as Python's re reads them (same syntax as Java's)."""

from __future__ import annotations

import re

import pytest

from streaming_jobs.transforms.parse import EVENT_TIME_TEXT, NUMBER_TEXT


@pytest.mark.parametrize("text", ["0", "-0", "12.5", "100.2500", "1e3", "-1.5E-3", "999999.99995"])
def test_number_text_accepts_json_numbers(text: str) -> None:
    assert re.match(NUMBER_TEXT, text)


@pytest.mark.parametrize(
    "text",
    ["12,5", "1,234.5", "+12.5", "01.5", ".5", "5.", " 5", "5 ", "NaN", "Infinity", "1_000", "\u0661", "0x1F", ""],
)
def test_number_text_refuses_everything_else(text: str) -> None:
    assert not re.match(NUMBER_TEXT, text)


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-02T14:30:00Z",
        "2026-03-02T14:30:00.125Z",
        "2026-03-02T14:30:00.123456789+01:00",
        "2026-03-02T14:30:00-05:30",
    ],
)
def test_event_time_text_needs_a_zone(text: str) -> None:
    assert re.match(EVENT_TIME_TEXT, text)


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-02T14:30:00",  # no zone: a producer's local time must not be read as UTC
        "2026-03-02T14:30:00.125",
        "2026-03-02 14:30:00Z",
        "2026-03-02t14:30:00z",
        "2026-03-02T14:30:00+0100",
        "1772461800",
        "+2026-03-02T14:30:00Z",
        "2026-03-02T14:30:00Z ",
    ],
)
def test_event_time_text_refuses_the_rest(text: str) -> None:
    assert not re.match(EVENT_TIME_TEXT, text)
