"""Shared fixtures: each stack's recorded plan, run once per test session.

Running the real program costs about a second per stack and mode, so every
stack test asserts on these recorded plans instead of re-running it.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from offline.engine import run_stack  # noqa: E402
from offline.plan import Plan  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    """Rarer cyclic-GC passes in each test process (measured in the mutation tests: 68 s -> 40 s CPU).

    The recorded plans, the provider SDKs and Spark's JVM bridge keep a large
    heap alive, and with the default thresholds (700, 10, 10) the collector
    walks it again and again while the tests deep-copy plans; peak memory moved
    from 215 to 222 MiB in the same measurement.
    """
    gc.set_threshold(10_000, 50, 50)


@pytest.fixture(scope="session")
def dev_plan() -> Plan:
    """dev, as `pulumi up` would register it (computed outputs known)."""
    return run_stack("dev", preview=False)


@pytest.fixture(scope="session")
def prod_plan() -> Plan:
    return run_stack("prod", preview=False)


@pytest.fixture(scope="session")
def dev_preview_plan() -> Plan:
    """dev, as a first `pulumi preview` sees it (ids and computed outputs unknown)."""
    return run_stack("dev", preview=True)


@pytest.fixture(scope="session")
def prod_preview_plan() -> Plan:
    return run_stack("prod", preview=True)


@pytest.fixture(scope="session")
def confluent_plan() -> Plan:
    """The Confluent Cloud variant of dev (ingestion.provider confluent), as `pulumi up` would register it."""
    return run_stack("confluent", preview=False)


@pytest.fixture(scope="session")
def confluent_preview_plan() -> Plan:
    return run_stack("confluent", preview=True)


@pytest.fixture(scope="session")
def scale_plan() -> Plan:
    """prod's controls at seed 001's 1.2 M events/s (docs/capacity.md), as `pulumi up` would register it."""
    return run_stack("scale", preview=False)


@pytest.fixture(scope="session", params=["dev", "prod"])
def stack_plan(request: pytest.FixtureRequest, dev_plan: Plan, prod_plan: Plan) -> Plan:
    return {"dev": dev_plan, "prod": prod_plan}[request.param]
