"""Example values in a stack file: fine to preview, refused by a real `pulumi up`.

The shipped stacks are templates: their Entra object ids, metastore id and
e-mail addresses are placeholders in recognisable forms, so they preview
offline and a real deploy refuses them, one message per key, instead of
granting a stranger's (or nobody's) object id or mailing example.com.

Recognised forms:
- GUIDs that are nil or nil-prefixed (`00000000-0000-0000-…`, the form
  Microsoft's docs use for placeholders), made of one repeated digit
  (`11111111-1111-…`), or counting up (`12345678-1234-…`);
- Databricks numeric ids with a leading zero (`0000000000000001`): a decimal
  id as Databricks prints it never starts with 0;
- Azure resource ids whose subscription is one of those GUIDs (`/subscriptions/00000000-…/…`);
- addresses and host names under the names RFC 2606 reserves for
  documentation: `example.com`, `example.net`, `example.org`, and the `.example`,
  `.test` and `.invalid` top-level domains (https://www.rfc-editor.org/rfc/rfc2606).

How the program knows it is being deployed: `pulumi.runtime.is_dry_run()` is
False only in `pulumi up` (and `pulumi destroy`/`refresh` runs, which do not
create anything new). The offline engine runs `up` mode too, to record
computed outputs, and says so through `OFFLINE_ENGINE`, since it deploys nothing.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterator
from typing import Any

import pulumi

from stack_config.section import GUID_PATTERN

# Set by offline/engine.py for the runs it records: nothing is deployed there, so examples pass.
OFFLINE_ENGINE: contextvars.ContextVar[bool] = contextvars.ContextVar("rta_offline_engine", default=False)

_GUID = re.compile(GUID_PATTERN)
_RESOURCE_ID = re.compile(r"^/subscriptions/([^/]+)/", re.IGNORECASE)
_RESERVED_DOMAIN = re.compile(
    r"(?:^|[@.])(?:example\.(?:com|net|org)|[^@.\s]+\.(?:example|test|invalid))$|(?:^|[@.])(?:example|test|invalid)$",
    re.IGNORECASE,
)


def example_kind(value: str) -> str | None:
    """What kind of example `value` is ("nil GUID", ...), or None for a value that may be real."""
    text = value.strip()
    if _GUID.match(text):
        digits = text.replace("-", "").lower()
        if set(digits) == {"0"}:
            return "the nil GUID"
        if digits.startswith("0" * 16):
            return "an example GUID (nil-prefixed)"
        if len(set(digits)) == 1:
            return "an example GUID (one repeated digit)"
        if digits.startswith("12345678"):
            return "an example GUID (counting digits)"
        return None
    if (resource := _RESOURCE_ID.match(text)) and example_kind(resource.group(1)):
        return "an Azure resource id in an example subscription (its subscription id is an example GUID)"
    if text.isdigit() and len(text) > 1 and text.startswith("0"):
        return "an example id (zero-prefixed; Databricks ids never start with 0)"
    if _RESERVED_DOMAIN.search(text):
        return "an address under a domain reserved for documentation (RFC 2606)"
    return None


def _walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}[{i}]")


def find_examples(config: dict[str, Any]) -> list[tuple[str, str]]:
    """(fully qualified key path, kind) of every example value in a config mapping (values parsed, not JSON)."""
    return [
        (path, kind)
        for key, value in config.items()
        for path, text in _walk(value, key)
        if (kind := example_kind(text))
    ]


def deploying() -> bool:
    """True in a real `pulumi up`: not a preview, not the offline engine."""
    return not pulumi.runtime.is_dry_run() and not OFFLINE_ENGINE.get()


def example_problems(config: dict[str, Any]) -> list[str]:
    """One message per key holding an example value, for a stack being deployed."""
    return [
        f"{path} is {kind}, a placeholder the shipped stack files carry; set the real value before `pulumi up` "
        f"(pulumi config set --path '{path}' <value>)"
        for path, kind in find_examples(config)
    ]
