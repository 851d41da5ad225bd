"""Read the stack's config once, validate it whole, and fail with every problem.

Nothing may be registered before this succeeds, so the stack program calls
`load_stack_config()` first and lets `ConfigError` end the run.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Annotated, Any

import pulumi
from pulumi.runtime import config as runtime_config
from pydantic import TypeAdapter, ValidationError

from components.naming import Naming, name_problems
from stack_config import examples
from stack_config.confluent import credential_problems as confluent_credential_problems
from stack_config.model import PROJECT, TOP_LEVEL_KEYS, IngestionProvider, StackConfig, cross_section_problems

# Values under keys named like these are never echoed in a message, nor are `secure:` keys' values.
_SECRET_NAME = re.compile(r"secret|password|passwd|token|credential|apikey|api_key|connectionstring|sas", re.I)
# Longer values are cut in messages (a multi-megabyte value is named, never printed).
_MAX_SHOWN = 80


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


def _shown(value: Any, loc: tuple[int | str, ...], secret_keys: frozenset[str]) -> str:
    """The value as a message may show it: never a secret's, never more than a line."""
    top = str(loc[0]) if loc else ""
    if top in secret_keys or any(isinstance(p, str) and _SECRET_NAME.search(p) for p in loc):
        return "(value hidden: it may be a secret)"
    if isinstance(value, dict):
        return "{...}"
    shown = json.dumps(value, default=str)
    return shown if len(shown) <= _MAX_SHOWN else f"{shown[: _MAX_SHOWN - 20]}... ({len(shown):,} characters)"


def _describe(error: Any, secret_keys: frozenset[str] = frozenset()) -> str:
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    key = _key_path(loc)
    msg = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        return f"{key} is required but not set"
    if error["type"] == "extra_forbidden":
        return f"{key} is not a known setting (check the spelling; see README 'Configuration')"
    value = error.get("input")
    if isinstance(value, dict) and error["type"] in ("value_error", "assertion_error"):
        return f"{key}: {msg}"
    return f"{key} = {_shown(value, loc, secret_keys)}: {msg}"


@functools.cache
def _field_adapter(name: str) -> TypeAdapter[Any]:
    """A validator for one top-level field alone, with its constraints."""
    field = StackConfig.model_fields[name]
    annotation: Any = field.annotation
    if field.metadata:
        annotation = Annotated[(annotation, *field.metadata)]
    return TypeAdapter(annotation)


def _partial_problems(raw: dict[str, Any]) -> list[str]:
    """Cross-section and prod rules over the sections that are valid, when some are not.

    Pydantic runs a model validator only when every field is valid, so without this a typo in one
    section would hide a prod rule broken in another until the next run.
    """
    valid: dict[str, Any] = {}
    for name, field in StackConfig.model_fields.items():
        key = field.alias or name
        if key not in raw:
            if not field.is_required():
                valid[name] = field.get_default(call_default_factory=True)
            continue
        try:
            valid[name] = _field_adapter(name).validate_python(raw[key])
        except ValidationError:
            continue
    try:
        return cross_section_problems(StackConfig.model_construct(**valid), skip_invalid=True)
    except (TypeError, ValueError, KeyError):
        return []


def parse_stack_config(raw: dict[str, Any], stack: str, secret_keys: frozenset[str] = frozenset()) -> StackConfig:
    """Validate an already-collected mapping (camelCase keys) into a StackConfig."""
    try:
        return StackConfig.model_validate(raw)
    except ValidationError as exc:
        problems = [_describe(e, secret_keys) for e in exc.errors()]
        model_level = any(not e["loc"] for e in exc.errors())
        if not model_level:
            problems.extend(p for p in _partial_problems(raw) if p not in problems)
        raise ConfigError(stack, problems) from None


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
    secret_keys = frozenset(k for k in TOP_LEVEL_KEYS if runtime_config.is_config_secret(f"{PROJECT}:{k}"))
    config: StackConfig | None = None
    try:
        config = parse_stack_config(raw, stack, secret_keys)
    except ConfigError as exc:
        problems.extend(p for p in exc.problems if not p.startswith(f"{PROJECT}:location"))
    if config is not None and config.operations is not None:
        # A webhook URL carries its token: it is read from its own secret config key (docs/operations.md).
        problems.extend(
            config.operations.webhook_secret_problems(runtime_config.get_config, runtime_config.is_config_secret, stack)
        )
    prefix = raw.get("namePrefix", "rta")
    environment, location = raw.get("environment"), raw.get("location")
    if config is not None or all(isinstance(v, str) for v in (prefix, environment, location)):
        # Every derived name must fit Azure's limits before the first resource is registered.
        naming = Naming.create(
            config.name_prefix if config else str(prefix),
            config.environment.value if config else str(environment),
            config.location if config else str(location),
            PROJECT,
            stack,
            config.unique_suffix if config else None,
        )
        problems.extend(f"{PROJECT}:{p}" for p in name_problems(naming))
    found = examples.find_examples({f"{PROJECT}:{k}": v for k, v in raw.items() if k not in secret_keys})
    if found and examples.deploying():
        problems.extend(
            examples.example_problems({f"{PROJECT}:{k}": v for k, v in raw.items() if k not in secret_keys})
        )
    elif found and not examples.OFFLINE_ENGINE.get():
        for path, kind in found:
            pulumi.log.warn(f"{path} is {kind}; `pulumi up` refuses it until the real value is set")
    if problems:
        raise ConfigError(stack, problems)
    assert config is not None
    return config
