"""The base every stack-config object shares (own module so section modules can import it)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints
from pydantic.alias_generators import to_camel

# An e-mail address as every section takes it (a receiver, not a mailbox check).
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
# A GUID in its 8-4-4-4-12 form: Entra object and application ids, Databricks account and metastore ids.
GUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
Uuid = Annotated[str, StringConstraints(pattern=GUID_PATTERN)]
# An Event Hubs entity name (event hub, consumer group): the names Kafka clients see as topics and groups.
HubName = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9][a-zA-Z0-9._-]{0,254}$")]


class Section(BaseModel):
    """Base for every config object: camelCase keys, no unknown keys, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
    )


def secret_setting_problems(
    keys: Iterable[str],
    get: Callable[[str], object],
    is_secret: Callable[[str], bool],
    required_when: str,
    stack: str | None = None,
) -> list[str]:
    """Each of `keys` (full config keys) must be set, and set as a secret; each problem names its command."""
    problems: list[str] = []
    on_stack = f" --stack {stack}" if stack else ""
    for key in keys:
        if get(key) in (None, ""):
            problems.append(
                f"{key} is required when {required_when} but not set "
                f"(pulumi config set --secret {key} <value>{on_stack})"
            )
        elif not is_secret(key):
            problems.append(
                f"{key} is set in plain text; set it with `pulumi config set --secret {key} <value>{on_stack}`"
            )
    return problems
