"""Read the stack's config once, validate it whole, and fail with every problem.

Nothing may be registered before this succeeds, so the stack program calls
`load_stack_config()` first and lets `ConfigError` end the run.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config
from pydantic import ValidationError

from stack_config.confluent import credential_problems as confluent_credential_problems
from stack_config.model import PROJECT, TOP_LEVEL_KEYS, IngestionProvider, StackConfig


class ConfigError(Exception):
    """The stack configuration is invalid; the message lists every problem."""

    def __init__(self, stack: str, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid configuration for stack {stack!r} ({len(problems)} problem(s)):\n{lines}")


def _all_config_keys() -> set[str]:
    return set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())


def _raw_value(key: str, problems: list[str]) -> Any:
    raw = runtime_config.get_config(f"{PROJECT}:{key}")
    if raw is None or not isinstance(raw, str):
        return raw
    stripped = raw.strip()
    if stripped[:1] in ("{", "["):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError as exc:
            problems.append(f"{PROJECT}:{key} is not valid JSON/YAML structure ({exc.msg})")
            return None
    return raw


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return f"{PROJECT}:{path}" if path else PROJECT


def _describe(error: Any) -> str:
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    key = _key_path(loc)
    msg = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        return f"{key} is required but not set"
    if error["type"] == "extra_forbidden":
        return f"{key} is not a known setting (check the spelling; see README 'Configuration')"
    value = error.get("input")
    shown = json.dumps(value, default=str) if not isinstance(value, dict) else "{...}"
    if isinstance(value, dict) and error["type"] in ("value_error", "assertion_error"):
        return f"{key}: {msg}"
    return f"{key} = {shown}: {msg}"


def parse_stack_config(raw: dict[str, Any], stack: str) -> StackConfig:
    """Validate an already-collected mapping (camelCase keys) into a StackConfig."""
    try:
        return StackConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(stack, [_describe(e) for e in exc.errors()]) from None


def load_stack_config() -> StackConfig:
    """Read every `rta-platform:*` key plus `azure-native:location` and validate them together."""
    stack = pulumi.get_stack()
    problems: list[str] = []
    known = set(TOP_LEVEL_KEYS)
    for full_key in sorted(_all_config_keys()):
        namespace, _, key = full_key.partition(":")
        if namespace == PROJECT and key not in known:
            problems.append(f"{full_key} is not a known setting (check the spelling; see README 'Configuration')")
    raw: dict[str, Any] = {}
    for key in TOP_LEVEL_KEYS:
        value = _raw_value(key, problems)
        if value is not None:
            raw[key] = value
    location = pulumi.Config("azure-native").get("location")
    if location is None:
        problems.append(
            "azure-native:location is required but not set (pulumi config set azure-native:location <region>)"
        )
    else:
        raw["location"] = location
    ingestion = raw.get("ingestion")
    if isinstance(ingestion, dict) and ingestion.get("provider") == IngestionProvider.CONFLUENT.value:
        # The Confluent provider's Cloud API credentials live in its own namespace, as secrets.
        problems.extend(
            confluent_credential_problems(runtime_config.get_config, runtime_config.is_config_secret, stack)
        )
    try:
        config = parse_stack_config(raw, stack)
    except ConfigError as exc:
        problems.extend(p for p in exc.problems if not p.startswith(f"{PROJECT}:location"))
    if problems:
        raise ConfigError(stack, problems)
    return config
