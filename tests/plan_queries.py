"""Small queries over a recorded plan (and a stack file's config) that several test modules share."""

from __future__ import annotations

import json
from typing import Any

from offline.engine import stack_config_values
from offline.plan import Plan, PlannedResource

PE = "azure-native:network:PrivateEndpoint"
DNS_GROUP = "azure-native:network:PrivateDnsZoneGroup"
DIAG = "azure-native:monitor:DiagnosticSetting"
ROLE = "azure-native:authorization:RoleAssignment"
LAW = "azure-native:operationalinsights:Workspace"
ZONE = "azure-native:privatedns:PrivateZone"


def dig(value: Any, *path: str | int) -> Any:
    for key in path:
        if value is None:
            return None
        value = value[key] if isinstance(key, int) else value.get(key)
    return value


def job_params(job: PlannedResource) -> dict[str, str]:
    """A Databricks job task's parameters after the job key the shared entry file dispatches on."""
    (task,) = job.inputs["tasks"]
    key, *args = task["sparkPythonTask"]["parameters"]
    assert key == task["taskKey"], "the first parameter names the job (streaming_jobs/entrypoints/run_job.py)"
    return dict(zip(args[::2], args[1::2], strict=True))


def only(plan: Plan, type_token: str) -> PlannedResource:
    found = plan.of_type(type_token)
    assert len(found) == 1, f"expected exactly one {type_token}, found {[r.name for r in found]}"
    return found[0]


def private_endpoints_for(plan: Plan, target: PlannedResource) -> list[PlannedResource]:
    """Endpoints whose private-link connection points at `target` (by id, or by dependency in preview)."""
    found = []
    for pe in plan.of_type(PE):
        conns = pe.inputs.get("privateLinkServiceConnections", [])
        ids = [c.get("privateLinkServiceId") for c in conns]
        if (target.id and target.id in ids) or target.urn in pe.property_dependencies.get(
            "privateLinkServiceConnections", []
        ):
            found.append(pe)
    return found


def group_ids(pe: PlannedResource) -> list[str]:
    return [g for c in pe.inputs.get("privateLinkServiceConnections", []) for g in c.get("groupIds", [])]


def zone_group_for(plan: Plan, pe: PlannedResource) -> PlannedResource | None:
    for group in plan.of_type(DNS_GROUP):
        if pe.urn in group.property_dependencies.get("privateEndpointName", []):
            return group
    return None


def diagnostics_for(plan: Plan, target_id: str) -> list[PlannedResource]:
    return [d for d in plan.of_type(DIAG) if d.inputs.get("resourceUri") == target_id]


def role_assignments(plan: Plan) -> list[PlannedResource]:
    return plan.of_type(ROLE)


def all_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *all_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in all_strings(v)]
    return []


def raw_stack_config(stack: str) -> dict[str, Any]:
    """The stack file's `rta-platform:*` config as parse_stack_config takes it (short camelCase keys, objects
    decoded), plus `location`: a fresh dict per call, so a test may change it."""
    values, _ = stack_config_values(stack)
    raw: dict[str, Any] = {}
    for key, value in values.items():
        namespace, _, short = key.partition(":")
        if namespace == "rta-platform":
            raw[short] = json.loads(value) if value[:1] in "{[" else value
    raw["location"] = values["azure-native:location"]
    return raw
