"""Shared machinery for the pack: safe property access and the two policy builders.

Policies never touch the SDK's proxies directly. A value that is unknown during
preview raises `UnknownValueError` the moment a proxy hands it out, and the SDK
then reports the policy as "can't run during preview" instead of judging the
resource; here unknowns become an explicit `UNKNOWN` marker each check decides
about (usually: a reference that will be set counts as set, a value that will
only be known at apply time is judged at `pulumi up`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import _DictProxy, _ListProxy
from pulumi_policy.secret import Secret, _DictSecretsProxy, _ListSecretsProxy

# The engine's unknown sentinels (pulumi_policy.proxy): one per value kind.
_UNKNOWN_SENTINELS = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)


class _Unknown:
    """Marker for a value that is computed during apply; falsy so `or` chains skip it."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Any = _Unknown()

AZ = "azure-native:"
DATABRICKS = "databricks:index/"
CONFLUENT = "confluentcloud:index/"


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN


def plain(value: Any) -> Any:
    """Strip the SDK's proxies and secret wrappers; turn unknown sentinels into UNKNOWN."""
    if isinstance(value, Secret):
        return plain(value.value)
    if isinstance(value, (_DictProxy, _ListProxy, _DictSecretsProxy, _ListSecretsProxy)):
        return plain(value["__target"])
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, str) and value in _UNKNOWN_SENTINELS:
        return UNKNOWN
    return value


def dig(data: Any, path: str | Sequence[str], default: Any = None) -> Any:
    """Read a dotted wire path; UNKNOWN if any step is unknown, `default` if absent or null."""
    keys = path.split(".") if isinstance(path, str) else path
    current = data
    for key in keys:
        if current is UNKNOWN:
            return UNKNOWN
        if not isinstance(current, Mapping):
            return default
        current = current.get(key)
        if current is None:
            return default
    return current


def as_list(value: Any) -> list[Any]:
    """A list-valued input as a list (absent -> [], unknown -> [UNKNOWN])."""
    if value is None:
        return []
    if value is UNKNOWN:
        return [UNKNOWN]
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def as_bool(value: Any) -> bool | _Unknown | None:
    """Booleans as the provider reads them: true/false, 'true'/'false' strings too."""
    if value is UNKNOWN or value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return bool(value)


def lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def is_set(value: Any) -> bool:
    """A reference that will exist: present and non-empty, or computed during apply."""
    if value is UNKNOWN:
        return True
    return value not in (None, "", [], {})


# ---------------------------------------------------------------------------
# Metadata


@dataclass(frozen=True)
class Framework:
    """Where a control comes from; rendered into the SDK's compliance framework field."""

    name: str
    reference: str
    version: str | None = None
    specification: str | None = None

    def to_sdk(self) -> PolicyComplianceFramework:
        return PolicyComplianceFramework(
            name=self.name, version=self.version, reference=self.reference, specification=self.specification
        )


def mcsb(reference: str, version: str = "v1", anchors: str | None = None) -> Framework:
    return Framework("Microsoft cloud security benchmark", reference, version, anchors)


def sat(reference: str, anchors: str | None = None) -> Framework:
    return Framework("Databricks Security Analysis Tool", reference, None, anchors)


@dataclass(frozen=True)
class Meta:
    """Everything a reader (and the README table) needs to know about one policy."""

    name: str
    control: str  # row id in the zero-trust control catalogue
    severity: Severity
    enforcement: EnforcementLevel
    description: str  # what it checks
    why: str  # why it matters, in one sentence
    remediation: str
    framework: Framework | None = None
    service: str = ""
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def sdk_kwargs(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "enforcement_level": self.enforcement,
            "severity": self.severity,
            "remediation_steps": self.remediation,
            "framework": self.framework.to_sdk() if self.framework else None,
            "tags": [t for t in ("zero-trust", self.service, self.control) if t],
            "config_schema": PolicyConfigSchema(properties={k: dict(v) for k, v in self.config.items()})
            if self.config
            else None,
        }

    def defaults(self) -> dict[str, Any]:
        return {k: v["default"] for k, v in self.config.items() if "default" in v}


def with_defaults(meta: Meta, config: Mapping[str, Any]) -> dict[str, Any]:
    """Schema defaults under the configured values, so direct `validate` calls behave like the engine."""
    merged = meta.defaults()
    merged.update(plain(dict(config)))
    return merged


# ---------------------------------------------------------------------------
# Resource policies


@dataclass(frozen=True)
class Res:
    """One resource as a check sees it: plain props, unknowns as UNKNOWN."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]

    def get(self, path: str | Sequence[str], default: Any = None) -> Any:
        return dig(self.props, path, default)


Check = Callable[[Res, Mapping[str, Any]], Iterable[str]]
Fix = Callable[[ResourceValidationArgs], bool]


class ZeroTrustResourcePolicy(ResourceValidationPolicy):
    """A resource policy bound to its metadata and the types it judges."""

    def __init__(self, meta: Meta, types: Iterable[str], check: Check, fix: Fix | None = None) -> None:
        self.meta = meta
        # A frozenset subclass may widen membership (see governance); keep it as given.
        self.types = types if isinstance(types, frozenset) else frozenset(types)
        self._check = check
        self._fix = fix
        super().__init__(
            validate=self._validate,
            # The SDK types remediations as async, but its Remediate accepts a plain return value too.
            remediate=self._remediate if fix else None,  # type: ignore[arg-type]
            **meta.sdk_kwargs(),
        )

    def evaluate(self, res: Res, config: Mapping[str, Any] | None = None) -> list[str]:
        """Messages for one resource; the same path the SDK's Analyze takes, minus the proxies."""
        if res.type not in self.types:
            return []
        return list(self._check(res, with_defaults(self.meta, config or {})))

    def _validate(self, args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type not in self.types:
            return
        res = Res(args.resource_type, args.name, args.urn, plain(args.props))
        for message in self._check(res, with_defaults(self.meta, args.get_config())):
            report(message, None)

    def _remediate(self, args: ResourceValidationArgs) -> Mapping[str, Any] | None:
        # Mutate the SDK's secret-preserving proxy in place: returning a fresh
        # dict would turn secret inputs into plain text in the engine's state.
        if args.resource_type not in self.types or self._fix is None:
            return None
        return args.props if self._fix(args) else None


def resource_policy(
    meta: Meta, types: Iterable[str], fix: Fix | None = None
) -> Callable[[Check], ZeroTrustResourcePolicy]:
    def decorate(check: Check) -> ZeroTrustResourcePolicy:
        return ZeroTrustResourcePolicy(meta, types, check, fix)

    return decorate


def set_top_level(key: str, value: Any, *, unless: Callable[[Any], bool]) -> Fix:
    """A remediation that sets one top-level input unless it is already compliant (or unknown)."""

    def fix(args: ResourceValidationArgs) -> bool:
        current = _raw_get(args.props, key)
        if current is UNKNOWN or unless(current):
            return False
        args.props[key] = value  # type: ignore[index]
        return True

    return fix


def _raw_get(props: Mapping[str, Any], key: str) -> Any:
    try:
        target = props["__target"]
    except KeyError:
        target = props
    return plain(target.get(key)) if isinstance(target, Mapping) else None


# ---------------------------------------------------------------------------
# Declarative checks: one input path, one expectation, the pack's message wording.
# Each builder returns a Check; an unknown value always passes (it is judged at `pulumi up`).


def _as_is(value: Any) -> Any:
    return value


def expect(
    path: str,
    allowed: Container[Any],
    *,
    when_missing: str | None = None,
    hint: str = "",
    normalise: Callable[[Any], Any] = _as_is,
    unset: str | None = None,
) -> Check:
    """`path` must hold one of `allowed` (compared after `normalise`).

    Absent: with `when_missing` (the tail after "<path> is not set"), that message; without it, an
    absent value is judged as None. Any other value: "<path> is <value!r><hint>.", or, when `unset`
    is given, "<path> is <value>." with an absent or empty value shown as `unset`.
    """

    def check(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
        value = r.get(path)
        if value is None and when_missing is not None:
            yield f"{path} is not set{when_missing}."
        elif not is_unknown(value) and normalise(value) not in allowed:
            shown = (value or unset) if unset is not None else repr(value)
            yield f"{path} is {shown}{hint}."

    return check


def expect_flag(path: str, want: bool, *, when_missing: str | None = None, hint: str = "") -> Check:
    """A boolean input (strings "true"/"false" too) must not be `not want`: "<path> is true|false<hint>."

    Absent passes (the provider default is compliant) unless `when_missing` is given: then
    "<path> is not set<when_missing>."
    """

    def check(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
        value = as_bool(r.get(path))
        if value is None:
            if when_missing is not None:
                yield f"{path} is not set{when_missing}."
        elif value is (not want):
            yield f"{path} is {'true' if value else 'false'}{hint}."

    return check


def must_be_true(path: str, hint: str = "") -> Check:
    """A boolean input whose default is false: absent or false both report "<path> is not true<hint>."."""

    def check(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
        value = as_bool(r.get(path))
        if value is None or value is False:
            yield f"{path} is not true{hint}."

    return check


def expect_minimum(path: str, setting: str, *, default: Any = None, when_missing: str = "") -> Check:
    """A number of days at least the policy's `setting`: absent -> "<path> is not set<when_missing>; ..."."""

    def check(r: Res, config: Mapping[str, Any]) -> Iterator[str]:
        value = r.get(path, default)
        minimum = int(config[setting])
        if value is None:
            yield f"{path} is not set{when_missing}; at least {minimum} is required."
        elif not is_unknown(value) and float(value) < minimum:
            yield f"{path} is {int(float(value))}; at least {minimum} is required."

    return check


def all_of(*checks: Check) -> Check:
    """Several checks as one policy's check: their messages in order."""

    def check(r: Res, config: Mapping[str, Any]) -> Iterator[str]:
        for each in checks:
            yield from each(r, config)

    return check


# ---------------------------------------------------------------------------
# Stack policies


@dataclass
class Node:
    """One stack resource with its dependency edges resolved to URNs.

    `raw` is converted to plain props on first use: each stack policy sees the
    whole stack but reads the properties of only the few types it judges.
    """

    type: str
    name: str
    urn: str
    raw: Any
    parent: str | None
    # The SDK's PolicyResource: its edges are resolved to URNs on first use, like `props`
    # (every stack policy builds the graph anew; most read the edges of a few nodes).
    source: Any

    @functools.cached_property
    def props(self) -> Mapping[str, Any]:
        return plain(self.raw)

    @functools.cached_property
    def dependencies(self) -> frozenset[str]:
        return frozenset(d.urn for d in self.source.dependencies)

    @functools.cached_property
    def property_dependencies(self) -> Mapping[str, frozenset[str]]:
        return {k: frozenset(d.urn for d in v) for k, v in self.source.property_dependencies.items()}

    def get(self, path: str | Sequence[str], default: Any = None) -> Any:
        return dig(self.props, path, default)

    def depends_on(self, other: Node, *properties: str) -> bool:
        """True if `other` feeds one of `properties` (or, with none given, any input)."""
        if properties:
            if any(other.urn in self.property_dependencies.get(p, frozenset()) for p in properties):
                return True
            # Engines that record no property dependencies still record the edge.
            recorded = any(p in self.property_dependencies for p in properties)
            return not recorded and other.urn in self.dependencies
        return other.urn in self.dependencies or any(other.urn in v for v in self.property_dependencies.values())

    @property
    def azure_id(self) -> str | None:
        value = self.props.get("id")
        return value.lower() if isinstance(value, str) and value.startswith("/") else None


class Graph:
    """The stack as the checks query it: nodes by type, with edges."""

    def __init__(self, nodes: Iterable[Node]) -> None:
        self.nodes = list(nodes)

    @classmethod
    def from_policy_resources(cls, resources: Sequence[PolicyResource]) -> Graph:
        return cls(
            Node(
                type=r.resource_type,
                name=r.name,
                urn=r.urn,
                raw=r.props,
                parent=r.parent.urn if r.parent is not None else r.opts.parent,
                source=r,
            )
            for r in resources
        )

    def of_type(self, *types: str) -> list[Node]:
        wanted = set(types)
        return [n for n in self.nodes if n.type in wanted]

    def refers_to(self, node: Node, target: Node, prop: str, value: Any) -> bool:
        """Does `node` point at `target` through `prop`: by dependency, or by a concrete id?"""
        if node.depends_on(target, prop):
            return True
        target_id = target.azure_id
        if target_id and isinstance(value, str) and not is_unknown(value):
            v = value.lower().rstrip("/")
            return v == target_id or v.startswith(target_id + "/")
        return False

    def refers_by_name(self, node: Node, target: Node, prop: str, *name_keys: str) -> bool:
        """Child resources name their parent (`serverName`, `privateEndpointName`): by dependency or by equal name."""
        if node.depends_on(target, prop):
            return True
        value = node.get(prop)
        if not isinstance(value, str) or is_unknown(value):
            return False
        names = [target.get(k) for k in name_keys]
        return any(isinstance(n, str) and n.lower() == value.lower() for n in names)

    def children(self, target: Node, types: Sequence[str], prop: str, *name_keys: str) -> list[Node]:
        return [n for n in self.of_type(*types) if self.refers_by_name(n, target, prop, *name_keys)]


StackCheck = Callable[[Graph, Mapping[str, Any]], Iterable[tuple[str | None, str]]]


class ZeroTrustStackPolicy(StackValidationPolicy):
    """A stack policy bound to its metadata; checks yield (urn, message) pairs."""

    def __init__(self, meta: Meta, check: StackCheck) -> None:
        self.meta = meta
        self._check = check
        super().__init__(validate=self._validate, **meta.sdk_kwargs())

    def evaluate(self, graph: Graph, config: Mapping[str, Any] | None = None) -> list[tuple[str | None, str]]:
        return list(self._check(graph, with_defaults(self.meta, config or {})))

    def _validate(self, args: StackValidationArgs, report: ReportViolation) -> None:
        graph = Graph.from_policy_resources(args.resources)
        for urn, message in self._check(graph, with_defaults(self.meta, args.get_config())):
            report(message, urn)


def stack_policy(meta: Meta) -> Callable[[StackCheck], ZeroTrustStackPolicy]:
    def decorate(check: StackCheck) -> ZeroTrustStackPolicy:
        return ZeroTrustStackPolicy(meta, check)

    return decorate


def first(items: Iterable[Any]) -> Any:
    return next(iter(items), None)


def walk(value: Any) -> Iterator[Any]:
    """Every nested value (depth first), for checks that look for a key anywhere."""
    yield value
    if isinstance(value, Mapping):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)
