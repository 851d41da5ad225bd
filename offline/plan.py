"""The recorded plan: what `pulumi up` would register, as plain data.

Produced by offline.engine, consumed by the offline preview, the policy runner
and the tests. Inputs are the wire form the engine sees (camelCase names,
secrets as envelope dicts, unknowns as the UNKNOWN sentinel string).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# What an input that is not known until apply looks like in a recorded plan
# (the engine's own unknown sentinel).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SECRET_SIG = "4dabf18193072939515e22adb298388d"


@dataclass
class PlannedResource:
    urn: str
    type: str  # e.g. "azure-native:storage:StorageAccount"
    name: str  # logical Pulumi name
    custom: bool  # False for ComponentResources
    inputs: dict[str, Any]  # wire-form (camelCase) inputs as the engine receives them
    parent: str | None = None  # parent URN
    dependencies: list[str] = field(default_factory=list)  # URNs
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    provider: str | None = None  # provider reference "urn::id", if explicit
    id: str | None = None  # mock id (None in preview for unknown ids)
    outputs: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)  # protect, ignoreChanges, deleteBeforeReplace...
    # Aliases as sent to the engine: {"urn": ...} or a spec's set fields (name, type, parentUrn, noParent...).
    aliases: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Invocation:
    token: str
    args: dict[str, Any]


@dataclass
class Plan:
    project: str
    stack: str
    preview: bool
    resources: list[PlannedResource]
    outputs: dict[str, Any]
    invokes: list[Invocation] = field(default_factory=list)
    # Secrets a real `pulumi up` needs that the stack file does not hold: the engine stood in marked values.
    secret_stand_ins: list[str] = field(default_factory=list)

    # ---- queries the preview, policies and tests share ----
    def of_type(self, type_token: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_token]

    def by_urn(self) -> dict[str, PlannedResource]:
        return {r.urn: r for r in self.resources}

    def one(self, type_token: str, name: str) -> PlannedResource:
        matches = [r for r in self.of_type(type_token) if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"expected one {type_token} named {name!r}, found {len(matches)}")
        return matches[0]

    def children_of(self, urn: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.parent == urn]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=False, default=str)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        return cls(
            project=data["project"],
            stack=data["stack"],
            preview=data["preview"],
            resources=[PlannedResource(**r) for r in data["resources"]],
            outputs=data["outputs"],
            invokes=[Invocation(**i) for i in data.get("invokes", [])],
            secret_stand_ins=list(data.get("secret_stand_ins", [])),
        )

    @classmethod
    def read(cls, path: Path) -> Plan:
        return cls.from_dict(json.loads(path.read_text()))
