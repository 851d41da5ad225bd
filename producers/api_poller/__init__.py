"""Seed 002's producer: a timer-triggered Azure Function that polls a REST API and sends trade events.

The core (settings, HTTP client, mapping, cursor, the poll loop) is plain Python
so it runs and is tested locally against a fake API; `function_app.py` is the
thin Azure Functions (Python v2 programming model) edge.
"""
