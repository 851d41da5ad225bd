"""Evaluate the zero-trust policy pack against a recorded plan, the way the Pulumi engine does.

    python -m offline.policy_runner --stack prod            # first preview, prod config
    python -m offline.policy_runner --stack dev --up --config policies/config/dev.json

The pack's own analyzer servicer (pulumi_policy's gRPC service) is driven
in-process with the protobuf requests the engine would send: GetAnalyzerInfo,
Configure (the engine's reconciliation of schema defaults, "all" and per-policy
levels from the --policy-pack-config file), ConfigureStack, then per resource
Remediate followed by Analyze on the remediated inputs, and finally
AnalyzeStack. Unknown values stay the engine's sentinels, so preview semantics
are the SDK's own. The policies are imported from `policies/zero_trust`, never
by running `policies/__main__.py` (PolicyPack(...) serves gRPC and blocks).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import json
import re
import sys
import types
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import proto
from pulumi_policy.deserialize import deserialize_properties as _sdk_deserialize
from pulumi_policy.proxy import _DictProxy, _ListProxy
from pulumi_policy.proxy import unknown_checking_proxy as _sdk_proxy

from offline.plan import Plan, PlannedResource

REPO_ROOT = Path(__file__).resolve().parent.parent
POLICY_DIR = REPO_ROOT / "policies"
CONFIG_DIR = POLICY_DIR / "config"

LEVELS = ("advisory", "mandatory", "remediate", "disabled")
_LEVEL_TO_PROTO = {
    "advisory": proto.ADVISORY,
    "mandatory": proto.MANDATORY,
    "remediate": proto.REMEDIATE,
    "disabled": proto.DISABLED,
}
_PROTO_TO_LEVEL = {v: k for k, v in _LEVEL_TO_PROTO.items()}
_SEVERITY = {
    proto.POLICY_SEVERITY_UNSPECIFIED: "",
    proto.POLICY_SEVERITY_LOW: "low",
    proto.POLICY_SEVERITY_MEDIUM: "medium",
    proto.POLICY_SEVERITY_HIGH: "high",
    proto.POLICY_SEVERITY_CRITICAL: "critical",
}
_SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3, "": 4}


class PolicyConfigError(ValueError):
    """The policy-pack config is invalid; every problem is listed, as the CLI does."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid policy pack config:\n  " + "\n  ".join(self.problems))


# ----------------------------------------------------------------------------- report


@dataclass(frozen=True)
class Violation:
    policy: str
    severity: str  # low | medium | high | critical
    enforcement: str  # advisory | mandatory (remediate is reported as mandatory, as the SDK does)
    urn: str  # "" when a stack policy blames the stack as a whole
    resource: str  # logical name, "" for the stack
    resource_type: str
    message: str  # what is wrong with this resource (the policy description is separate)
    description: str
    stack_level: bool = False

    @property
    def mandatory(self) -> bool:
        return self.enforcement == "mandatory"


@dataclass(frozen=True)
class Remediation:
    policy: str
    urn: str
    applied: bool  # False: the remediation could not run (for example on an unknown value)
    diagnostic: str = ""


@dataclass
class PolicyReport:
    pack: str
    version: str
    stack: str
    preview: bool
    levels: dict[str, str]  # effective enforcement level per policy after reconciliation
    violations: list[Violation] = field(default_factory=list)
    # "can't run policy ... during preview" diagnostics the SDK emits when a policy trips on an unknown
    unknowns: list[Violation] = field(default_factory=list)
    remediations: list[Remediation] = field(default_factory=list)
    not_applicable: list[tuple[str, str, str]] = field(default_factory=list)  # (policy, urn, reason)
    warnings: list[str] = field(default_factory=list)
    config_source: str = "(pack defaults)"
    # Inputs the engine would go on with, for resources a remediation rewrote (secrets still enveloped).
    remediated_inputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.mandatory]

    @property
    def advisory(self) -> list[Violation]:
        return [v for v in self.violations if not v.mandatory]

    @property
    def has_mandatory_violations(self) -> bool:
        return bool(self.mandatory)

    def policies_violated(self, *, mandatory_only: bool = False) -> set[str]:
        return {v.policy for v in (self.mandatory if mandatory_only else self.violations)}

    def for_policy(self, name: str) -> list[Violation]:
        return [v for v in self.violations if v.policy == name]


# ----------------------------------------------------------------------------- config


def load_config(config: Mapping[str, Any] | str | Path | None) -> tuple[dict[str, Any], str]:
    """A --policy-pack-config document (dict, or path to its JSON file) and a label for it."""
    if config is None:
        return {}, "(pack defaults)"
    if isinstance(config, Mapping):
        return dict(config), "(inline config)"
    path = Path(config)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise PolicyConfigError([f"{path}: {exc}"]) from exc
    if not isinstance(data, dict):
        raise PolicyConfigError([f"{path}: expected a JSON object of policy name -> level or settings"])
    return data, str(path)


def parse_config(doc: Mapping[str, Any]) -> dict[str, tuple[str | None, dict[str, Any] | None]]:
    """The CLI's parsing: a value is a level string or an object with optional enforcementLevel."""
    problems: list[str] = []
    parsed: dict[str, tuple[str | None, dict[str, Any] | None]] = {}
    for name, value in doc.items():
        if isinstance(value, str):
            if value not in LEVELS:
                problems.append(f"{name}: invalid enforcement level {value!r} (one of {', '.join(LEVELS)})")
            parsed[name] = (value, None)
        elif isinstance(value, Mapping):
            props = {k: v for k, v in value.items() if k != "enforcementLevel"}
            level = value.get("enforcementLevel")
            if level is not None and level not in LEVELS:
                problems.append(f"{name}: invalid enforcementLevel {level!r} (one of {', '.join(LEVELS)})")
            parsed[name] = (level, props or None)
        else:
            problems.append(f"{name}: expected an enforcement level or an object, got {type(value).__name__}")
    if problems:
        raise PolicyConfigError(problems)
    return parsed


def _schema_errors(schema: Mapping[str, Any], value: Any, path: str) -> list[str]:
    """The subset of JSON Schema policy config schemas use (type, enum, bounds, items, required)."""
    errors: list[str] = []
    kind = schema.get("type")
    checks = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: (
            (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
        ),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
    }
    if isinstance(kind, str) and kind in checks and not checks[kind](value):
        return [f"{path}: expected {kind}, got {json.dumps(value)}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {json.dumps(value)} is not one of {json.dumps(schema['enum'])}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: {value} is less than the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: {value} is greater than the maximum {schema['maximum']}")
    if isinstance(value, str) and len(value) < schema.get("minLength", 0):
        errors.append(f"{path}: string shorter than {schema['minLength']}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{path}: fewer than {schema['minItems']} items")
        for i, item in enumerate(value):
            errors.extend(_schema_errors(schema.get("items", {}), item, f"{path}[{i}]"))
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{path}: missing required property {key!r}")
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                errors.extend(_schema_errors(sub, value[key], f"{path}.{key}"))
    return errors


@dataclass(frozen=True)
class ResolvedConfig:
    level: str
    properties: dict[str, Any]


def reconcile(info: Any, doc: Mapping[str, Any], warnings: list[str] | None = None) -> dict[str, ResolvedConfig]:
    """The engine's ReconcilePolicyPackConfig: policy defaults and schema defaults, then "all", then each policy."""
    parsed = parse_config(doc)
    policies = {p.name: p for p in info.policies}
    result: dict[str, ResolvedConfig] = {}
    for p in info.policies:
        schema = json_format.MessageToDict(p.configSchema.properties) if p.HasField("configSchema") else {}
        defaults = {k: v["default"] for k, v in schema.items() if isinstance(v, dict) and "default" in v}
        result[p.name] = ResolvedConfig(_PROTO_TO_LEVEL[p.enforcementLevel], defaults)

    all_level, all_props = parsed.get("all", (None, None))
    if all_level or all_props:
        result = {
            k: ResolvedConfig(all_level or v.level, {**v.properties, **(all_props or {})}) for k, v in result.items()
        }
    for name, (level, props) in parsed.items():
        if name == "all":
            continue
        if name not in policies and warnings is not None:
            warnings.append(f"config names policy {name!r}, which is not in the pack")
        current = result.get(name, ResolvedConfig("advisory", {}))
        result[name] = ResolvedConfig(level or current.level, {**current.properties, **(props or {})})

    problems: list[str] = []
    for p in info.policies:
        schema_props = json_format.MessageToDict(p.configSchema.properties) if p.HasField("configSchema") else {}
        props = result[p.name].properties
        if schema_props:
            schema = {"type": "object", "properties": schema_props, "required": list(p.configSchema.required)}
            problems.extend(f"{p.name}: {e}" for e in _schema_errors(schema, props, "config"))
        unknown = sorted(set(props) - set(schema_props))
        if unknown and warnings is not None:
            warnings.append(f"{p.name}: config properties {unknown} are not in the policy's schema and are ignored")
    if problems:
        raise PolicyConfigError(problems)
    return result


def default_config_for(plan: Plan) -> Path:
    """policies/config/<stack>.json when it exists, else the strict prod config."""
    candidate = CONFIG_DIR / f"{plan.stack}.json"
    return candidate if candidate.exists() else CONFIG_DIR / "prod.json"


# ----------------------------------------------------------------------------- the analyzer


def pack_version() -> str:
    match = re.search(r"^version:\s*(\S+)", (POLICY_DIR / "PulumiPolicy.yaml").read_text(), re.M)
    return match.group(1) if match else "0.0.1"


def _import_pack() -> Any:
    if str(POLICY_DIR) not in sys.path:
        sys.path.insert(0, str(POLICY_DIR))
    # The same package policies/__main__.py imports when the CLI runs the pack.
    return importlib.import_module("zero_trust")


def build_servicer(policies: Sequence[Any] | None = None) -> Any:
    """The analyzer servicer PolicyPack(...) would serve over gRPC, without the server."""
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    pack = _import_pack()
    return _PolicyAnalyzerServicer(
        pack.PACK_NAME,
        pack_version(),
        list(policies if policies is not None else pack.ALL_POLICIES),
        pack.PACK_ENFORCEMENT,
        None,
        pack.PACK_DESCRIPTION,
    )


def _servicer_and_info(policies: Sequence[Any] | None) -> tuple[Any, Any]:
    servicer = build_servicer(policies)
    return servicer, servicer.GetAnalyzerInfo(empty_pb2.Empty(), None)


@functools.cache
def _pack_servicer() -> tuple[Any, Any]:
    """One servicer for the pack; each evaluation re-sends Configure and ConfigureStack, as a new engine run does."""
    return _servicer_and_info(None)


def _struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(dict(value))
    return s


def _options(r: PlannedResource) -> Any:
    opts = r.options or {}
    dbr = opts.get("deleteBeforeReplace")
    return proto.AnalyzerResourceOptions(
        protect=bool(opts.get("protect", False)),
        ignoreChanges=[str(x) for x in opts.get("ignoreChanges", []) or []],
        deleteBeforeReplace=bool(dbr),
        deleteBeforeReplaceDefined=dbr is not None,
        additionalSecretOutputs=[str(x) for x in opts.get("additionalSecretOutputs", []) or []],
        aliases=[a for a in opts.get("aliases", []) or [] if isinstance(a, str)]
        if isinstance(opts.get("aliases"), list)
        else [],
        parent=r.parent or "",
    )


def _provider(r: PlannedResource, by_urn: Mapping[str, PlannedResource], project: str, stack: str) -> Any:
    if r.provider:
        urn = r.provider.rsplit("::", 1)[0]
        prov = by_urn.get(urn)
        if prov is not None:
            return proto.AnalyzerProviderResource(
                type=prov.type, properties=_struct(prov.inputs), urn=prov.urn, name=prov.name
            )
        kind = urn.split("::")[2] if urn.count("::") >= 3 else "pulumi:providers:unknown"
        return proto.AnalyzerProviderResource(type=kind, properties=_struct({}), urn=urn, name=urn.rsplit("::", 1)[-1])
    if not r.custom or r.type.startswith("pulumi:providers:"):
        return None
    # The engine's default provider for the resource's package.
    package = r.type.split(":", 1)[0]
    kind = f"pulumi:providers:{package}"
    urn = f"urn:pulumi:{stack}::{project}::{kind}::default"
    return proto.AnalyzerProviderResource(type=kind, properties=_struct({}), urn=urn, name="default")


class _StructDecodeMemo:
    """The SDK's view of `json_format` while the pack runs: each request Struct is decoded once.

    The SDK's Analyze decodes the same `request.properties` (and the provider's)
    with `json_format.MessageToDict` once per policy, about 17,500 decodes for
    prod's 209 resources and 84 policies: two thirds of the pack's time. The
    decoded dict is always passed through `deserialize_properties`, which builds
    fresh dicts and lists at every level (pulumi_policy/deserialize.py), so
    handing every policy the same decoded dict is exact: no policy can see
    another's changes. Messages are held by the memo, so no id is reused while
    it lives; it lives for one evaluation.
    """

    def __init__(self) -> None:
        self._decoded: dict[int, tuple[Any, Any]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(json_format, name)

    def MessageToDict(self, message: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 (the SDK's name)
        if args or kwargs or not isinstance(message, struct_pb2.Struct):
            return json_format.MessageToDict(message, *args, **kwargs)
        hit = self._decoded.get(id(message))
        if hit is None:
            hit = self._decoded[id(message)] = (message, json_format.MessageToDict(message))
        return hit[1]


class _ReadOnlyDictProxy(_DictProxy):
    """The SDK's property proxy with its one write path refused, so one proxy tree can serve every policy."""

    def __setitem__(self, key: Any, value: Any) -> None:
        raise TypeError(
            f"a validation policy wrote resource property {key!r}: policies read their inputs "
            "(only remediations, which get their own copy, may change them)"
        )


def _freeze(proxy: Any) -> Any:
    """Refuse writes throughout one proxy tree the SDK built (same objects, same reads)."""
    kind = type(proxy)  # exact types: isinstance on the SDK's Mapping/Sequence ABCs is slow
    if kind is _DictProxy:
        proxy.__class__ = _ReadOnlyDictProxy
        for value in proxy["__target"].values():
            _freeze(value)
    elif kind is _ListProxy:
        for value in proxy["__target"]:
            _freeze(value)
    return proxy


class _PropertyProxyMemo:
    """Each decoded Struct is deserialized and wrapped in the SDK's unknown-checking proxy once.

    Analyze and AnalyzeStack rebuild every resource's properties for every
    policy: `deserialize_properties` then `unknown_checking_proxy`, about
    13,000 rebuilds for prod's stack pass alone, 95 % of its time (the
    policies themselves take 4 %). Validation gets the proxy tree built once,
    with writes refused (`_ReadOnlyDictProxy`), so sharing it is exact: a
    policy that tried to write would fail loudly instead of leaking the write
    to the next policy. Remediate deserializes with secrets kept (a second
    argument) and its remediations write on purpose: those calls pass through
    untouched. Keys are the ids of dicts the decode memo holds for the whole
    evaluation, so no id is reused while this memo lives.
    """

    def __init__(self) -> None:
        self._deserialized: dict[int, Any] = {}
        self._proxies: dict[int, Any] = {}

    def deserialize_properties(self, props: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:
            return _sdk_deserialize(props, *args, **kwargs)
        hit = self._deserialized.get(id(props))
        if hit is None:
            hit = self._deserialized[id(props)] = _sdk_deserialize(props)
            self._proxies[id(hit)] = None
        return hit

    def unknown_checking_proxy(self, props: Any) -> Any:
        if id(props) not in self._proxies:
            return _sdk_proxy(props)
        hit = self._proxies[id(props)]
        if hit is None:
            hit = self._proxies[id(props)] = _freeze(_sdk_proxy(props))
        return hit


@contextlib.contextmanager
def _decode_once() -> Iterator[None]:
    """Install the memos in the SDK's module for the duration of one evaluation."""
    from pulumi_policy import policy as sdk_policy

    proxies = _PropertyProxyMemo()
    sdk_policy.json_format = _StructDecodeMemo()
    sdk_policy.deserialize_properties = proxies.deserialize_properties
    sdk_policy.unknown_checking_proxy = proxies.unknown_checking_proxy
    try:
        yield
    finally:
        sdk_policy.json_format = json_format
        sdk_policy.deserialize_properties = _sdk_deserialize
        sdk_policy.unknown_checking_proxy = _sdk_proxy


class _ReadOnce:
    """A protobuf message of the stack request with the fields the SDK reads taken once.

    The SDK's AnalyzeStack rebuilds every resource for every stack policy (pulumi_policy/policy.py:
    `for policy in ...: for r in request.resources: ...`), reading each message's fields again each
    time; protobuf field access was most of the stack pass (0.43 s a pass on prod, 20 stack policies).
    The values are the message's own objects (its Struct, its repeated containers, its sub-messages
    wrapped the same way), taken before the first policy runs, so every policy reads what the engine's
    request holds; `HasField` asks the message itself.
    """

    def __init__(self, message: Any, fields: Sequence[str]) -> None:
        self._message = message
        for name in fields:
            setattr(self, name, getattr(message, name))

    def HasField(self, name: str) -> bool:  # noqa: N802 (protobuf's name)
        return bool(self._message.HasField(name))


def _read_options(options: Any) -> _ReadOnce:
    return _ReadOnce(
        options,
        (
            "protect",
            "ignoreChanges",
            "deleteBeforeReplace",
            "deleteBeforeReplaceDefined",
            "aliases",
            "customTimeouts",
            "additionalSecretOutputs",
            "parent",
        ),
    )


def _stack_request(request: Any) -> Any:
    """The AnalyzeStack request with each resource read once (`_ReadOnce`); the SDK reads only `resources`."""
    resources = []
    for message in request.resources:
        r = _ReadOnce(message, ("type", "properties", "urn", "name", "provider", "parent"))
        r.options = _read_options(message.options)  # type: ignore[attr-defined]
        r.dependencies = list(message.dependencies)  # type: ignore[attr-defined]
        r.propertyDependencies = {  # type: ignore[attr-defined]
            k: _ReadOnce(v, ("urns",)) for k, v in message.propertyDependencies.items()
        }
        resources.append(r)
    return types.SimpleNamespace(resources=resources)


def _split_message(message: str, description: str) -> str:
    """The SDK prefixes each violation with the policy description; keep only the specific part."""
    if message.startswith(description):
        return message[len(description) :].lstrip("\n")
    return message


@_decode_once()
def evaluate(
    plan: Plan,
    config: Mapping[str, Any] | str | Path | None = None,
    *,
    policies: Sequence[Any] | None = None,
    stack_tags: Mapping[str, str] | None = None,
    only: set[str] | None = None,
) -> PolicyReport:
    """Run the pack over every resource of `plan`, then over the stack, and collect what it reports.

    `only` (URNs) restricts the per-resource pass to those resources, for re-checking a plan after an edit:
    a resource policy's verdict depends on its resource alone, the stack pass always sees every resource.
    """
    servicer, info = _pack_servicer() if policies is None else _servicer_and_info(policies)
    doc, source = load_config(config)
    warnings: list[str] = []
    resolved = reconcile(info, doc, warnings)
    servicer.Configure(
        proto.ConfigureAnalyzerRequest(
            policyConfig={
                name: proto.PolicyConfig(enforcementLevel=_LEVEL_TO_PROTO[c.level], properties=_struct(c.properties))
                for name, c in resolved.items()
            }
        ),
        None,
    )
    servicer.ConfigureStack(
        proto.AnalyzerStackConfigureRequest(
            stack=plan.stack,
            project=plan.project,
            organization="organization",
            dry_run=plan.preview,
            tags=dict(stack_tags or {}),
        ),
        None,
    )
    report = PolicyReport(
        pack=info.name,
        version=info.version,
        stack=plan.stack,
        preview=plan.preview,
        levels={p.name: resolved[p.name].level for p in info.policies},
        warnings=warnings,
        config_source=source,
    )
    descriptions = {p.name: p.description for p in info.policies}
    by_urn = plan.by_urn()
    final_inputs: dict[str, dict[str, Any]] = {}

    def collect(response: Any, default: PlannedResource | None, stack_level: bool) -> None:
        for d in response.diagnostics:
            target = by_urn.get(d.urn) if d.urn else default
            message = _split_message(d.message, d.description)
            violation = Violation(
                policy=d.policyName,
                severity=_SEVERITY.get(d.severity, ""),
                enforcement=_PROTO_TO_LEVEL.get(d.enforcementLevel, "advisory"),
                urn=target.urn if target else d.urn,
                resource=target.name if target else "",
                resource_type=target.type if target else "",
                message=message,
                description=descriptions.get(d.policyName, d.description),
                stack_level=stack_level,
            )
            if "during preview" in d.message and d.message.startswith("can't run policy"):
                report.unknowns.append(violation)
            else:
                report.violations.append(violation)
        for na in response.not_applicable:
            report.not_applicable.append((na.policy_name, default.urn if default else "", na.reason))

    for r in plan.resources:
        inputs = dict(r.inputs)
        if only is not None and r.urn not in only:
            final_inputs[r.urn] = inputs
            continue
        provider = _provider(r, by_urn, plan.project, plan.stack)

        def request(props: Mapping[str, Any], r: PlannedResource = r, provider: Any = provider) -> Any:
            return proto.AnalyzeRequest(
                type=r.type, properties=_struct(props), urn=r.urn, name=r.name, options=_options(r), provider=provider
            )

        remediated = servicer.Remediate(request(inputs), None)
        for rem in remediated.remediations:
            changed = bool(rem.properties.fields)
            if changed:
                inputs = json_format.MessageToDict(rem.properties)
                report.remediated_inputs[r.urn] = inputs
            report.remediations.append(Remediation(rem.policyName, r.urn, changed, rem.diagnostic))
        collect(servicer.Analyze(request(inputs), None), r, stack_level=False)
        final_inputs[r.urn] = inputs

    resources = [
        proto.AnalyzerResource(
            type=r.type,
            properties=_struct({**final_inputs[r.urn], **(r.outputs or {})}),
            urn=r.urn,
            name=r.name,
            options=_options(r),
            provider=_provider(r, by_urn, plan.project, plan.stack),
            parent=r.parent or "",
            dependencies=list(r.dependencies),
            propertyDependencies={
                k: proto.AnalyzerPropertyDependencies(urns=list(v)) for k, v in r.property_dependencies.items()
            },
        )
        for r in plan.resources
    ]
    request = proto.AnalyzeStackRequest(resources=resources)
    collect(servicer.AnalyzeStack(_stack_request(request), None), None, stack_level=True)
    return report


# ----------------------------------------------------------------------------- output


def _sorted(violations: Sequence[Violation]) -> list[Violation]:
    return sorted(
        violations, key=lambda v: (not v.mandatory, _SEVERITY_RANK.get(v.severity, 9), v.policy, v.resource, v.message)
    )


def print_report(report: PolicyReport, out: TextIO = sys.stdout) -> bool:
    """Print violations as the offline preview shows them; True if any is mandatory (the preview then fails)."""
    counts = {level: sum(1 for lv in report.levels.values() if lv == level) for level in LEVELS}
    out.write(
        f"\nPolicy pack {report.pack}@v{report.version} ({report.config_source}): {len(report.levels)} policies, "
        + ", ".join(f"{n} {level}" for level, n in counts.items() if n)
        + "\n"
    )
    for w in report.warnings:
        out.write(f"  warning: {w}\n")
    for rem in report.remediations:
        state = "applied" if rem.applied else f"not applied: {rem.diagnostic}"
        out.write(f"  remediation {rem.policy} on {rem.urn}: {state}\n")
    if not report.violations and not report.unknowns:
        out.write("  No policy violations.\n")
        return False
    if report.violations:
        out.write("\nPolicy violations:\n")
        for v in _sorted(report.violations):
            where = f"{v.resource_type}  {v.resource}" if v.resource else "(stack)"
            out.write(f"  [{v.enforcement}] [{v.severity or '-'}] {v.policy}  {where}\n")
            if v.urn:
                out.write(f"      urn: {v.urn}\n")
            for line in v.message.splitlines():
                out.write(f"      {line}\n")
    for v in report.unknowns:
        out.write(f"  [advisory] {v.policy}  {v.resource or '(stack)'}: {v.message}\n")
    mandatory, advisory = len(report.mandatory), len(report.advisory)
    out.write(f"\n{mandatory} mandatory and {advisory} advisory violation(s).")
    out.write(" The preview fails: mandatory policies block the update.\n" if mandatory else "\n")
    return bool(mandatory)


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.policy_runner", description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--stack", help="run the stack program offline and evaluate its plan")
    source.add_argument("--plan", type=Path, help="evaluate a plan JSON written by the offline preview")
    parser.add_argument("--up", action="store_true", help="with --stack: computed outputs known (as `pulumi up`)")
    parser.add_argument("--config", type=Path, default=None, help="--policy-pack-config file (default: per stack)")
    args = parser.parse_args(argv)
    if args.plan:
        plan = Plan.read(args.plan)
    else:
        from offline.engine import run_stack

        plan = run_stack(args.stack, preview=not args.up)
    try:
        report = evaluate(plan, args.config or default_config_for(plan))
    except PolicyConfigError as exc:
        out.write(f"error: {exc}\n")
        return 2
    return 1 if print_report(report, out) else 0


if __name__ == "__main__":
    sys.exit(main())
