"""Run one polling pass locally: python -m producers.api_poller --api-url URL --landing DIR [--cursor FILE]

The API key comes from the POLLER_API_KEY environment variable (never a flag, so it
stays out of shell history). Any other POLLER_* setting (settings.py) applies too.
Exit codes: 0 done, 2 invalid settings, 3 the run stopped on a bad response.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from producers.api_poller.runner import run_from_settings
from producers.api_poller.settings import PollerSettings, SettingsError, SinkKind


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m producers.api_poller", description=__doc__.splitlines()[0])
    p.add_argument("--api-url", help="the REST API to poll (POLLER_API_URL)")
    p.add_argument("--landing", help="write events as JSON lines into this directory (the local pipeline's input)")
    p.add_argument("--cursor", default="out/api-poller/cursor.json", help="the cursor file between runs")
    args = p.parse_args(argv)
    env = dict(os.environ)
    if args.api_url:
        env["POLLER_API_URL"] = args.api_url
    if args.landing:
        env["POLLER_SINK"] = SinkKind.LANDING.value
        env["POLLER_LANDING_DIR"] = args.landing
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        settings = PollerSettings.from_environment(env)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = run_from_settings(settings, cursor_path=args.cursor)
    print(result.summary())
    return 3 if result.bad_responses else 0


if __name__ == "__main__":
    sys.exit(main())
