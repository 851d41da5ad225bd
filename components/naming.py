"""Resource names, derived in one place so Azure's limits hold everywhere.

Globally unique names (storage, Key Vault, Event Hubs, SQL) carry a short
suffix derived from project and stack, so the same stack always gets the same
names and two stacks never collide.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# Short region codes keep names inside the 24-character limits.
_REGION_CODES = {
    "westeurope": "weu",
    "northeurope": "neu",
    "swedencentral": "sec",
    "germanywestcentral": "gwc",
    "eastus": "eus",
    "eastus2": "eus2",
    "westus2": "wus2",
    "uksouth": "uks",
}

# (max length, allowed characters) per kind of name.
_LIMITS: dict[str, tuple[int, str]] = {
    "storage": (24, r"[a-z0-9]"),
    "keyvault": (24, r"[a-zA-Z0-9-]"),
    "eventhubs": (50, r"[a-zA-Z0-9-]"),
    "sql": (63, r"[a-z0-9-]"),
    # Kusto clusters: 4-22 lowercase letters and digits, starting with a letter (globally unique).
    "kusto": (22, r"[a-z0-9]"),
    "default": (80, r"[a-zA-Z0-9-_.]"),
}


# The longest name of each kind the platform derives: (abbreviation, qualifier, unique).
# Config validation derives these before anything is registered (`name_problems`), and
# `Naming.name` refuses a longer spec, so a prefix that passes validation fits every name.
WORST_CASE: dict[str, tuple[str, str, bool]] = {
    "storage": ("dbfs", "", True),
    "keyvault": ("kv", "", True),
    "eventhubs": ("evhns", "", True),
    # The failover group's partner server: sql-<prefix>-<env>-<region>-dr-<suffix>.
    "sql": ("sql", "dr", True),
    "kusto": ("dec", "", True),
    "default": ("sa", "topic-manager", True),
}


def _extra_length(abbreviation: str, qualifier: str, unique: bool) -> int:
    return len(abbreviation) + (len(qualifier) + 1 if qualifier else 0) + (5 if unique else 0)


@dataclass(frozen=True)
class Naming:
    prefix: str
    environment: str
    location: str
    suffix: str

    @classmethod
    def create(
        cls, prefix: str, environment: str, location: str, project: str, stack: str, suffix: str | None = None
    ) -> Naming:
        derived = hashlib.sha256(f"{project}/{stack}/{prefix}".encode()).hexdigest()[:4]
        return cls(prefix, environment, location, suffix or derived)

    @property
    def region(self) -> str:
        return _REGION_CODES.get(self.location, self.location[:4])

    def name(self, abbreviation: str, kind: str = "default", *, unique: bool = False, qualifier: str = "") -> str:
        """`<abbr>-<prefix>-<env>-<region>[-<qualifier>][-<suffix>]`, squeezed to the kind's limits."""
        max_len, allowed = _LIMITS[kind]
        if _extra_length(abbreviation, qualifier, unique) > _extra_length(*WORST_CASE[kind]):
            raise ValueError(
                f"name spec ({abbreviation!r}, {kind!r}, qualifier={qualifier!r}) is longer than "
                f"naming.WORST_CASE[{kind!r}]; declare it there so config validation covers it"
            )
        parts = [abbreviation, self.prefix, self.environment, self.region]
        if qualifier:
            parts.append(qualifier)
        if unique:
            parts.append(self.suffix)
        separator = "" if kind in ("storage", "kusto") else "-"
        name = separator.join(parts)
        if kind in ("storage", "kusto"):
            name = name.lower()
        name = "".join(ch for ch in name if re.fullmatch(allowed, ch))
        if len(name) > max_len:
            raise ValueError(f"derived {kind} name {name!r} exceeds {max_len} characters; shorten namePrefix")
        return name


def name_problems(naming: Naming) -> list[str]:
    """Each kind's longest derived name that would exceed Azure's limit, as a config problem."""
    problems = []
    for kind, (abbreviation, qualifier, unique) in WORST_CASE.items():
        try:
            naming.name(abbreviation, kind, unique=unique, qualifier=qualifier)
        except ValueError as exc:
            problems.append(f"namePrefix {naming.prefix!r}: {exc}")
    return problems
