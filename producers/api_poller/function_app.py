"""Azure Functions entry point (Python v2 programming model): a timer that runs one polling pass.

Deployed by the stack (components/producer.py) to a Flex Consumption app. Settings
come from app settings; the API key and any Kafka key are Key Vault references that
App Service resolves with the app's user-assigned identity. The sink is called from
the code, not through an Event Hubs output binding: a binding sends after the
function returns, so the cursor could move before the events were accepted.
"""

from __future__ import annotations

import logging
import os

import azure.functions as func

from producers.api_poller.runner import run_from_settings
from producers.api_poller.settings import PollerSettings

app = func.FunctionApp()


# `%POLLER_SCHEDULE%` reads the NCRONTAB schedule from the app setting of that name; a timer trigger
# runs on one instance at a time (it takes a blob lease in the host storage account), so runs never overlap.
@app.timer_trigger(schedule="%POLLER_SCHEDULE%", arg_name="timer", run_on_startup=False, use_monitor=True)
def poll_trades_api(timer: func.TimerRequest) -> None:
    if timer.past_due:
        logging.info("api poller: the timer is past due; polling from the stored cursor")
    settings = PollerSettings.from_environment(os.environ)
    result = run_from_settings(settings)
    logging.info("api poller: %s", result.summary())
    if result.bad_responses:
        # A failed page is counted and logged; raising marks the invocation failed for alerting.
        raise RuntimeError(f"api poller: bad responses {dict(result.bad_responses)}")
