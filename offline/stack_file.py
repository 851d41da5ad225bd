"""Read `Pulumi.yaml` / `Pulumi.<stack>.yaml` the way a hostile file cannot abuse.

The Pulumi CLI parses stack files with Go's yaml.v3, which follows YAML 1.2:
`ON`, `yes` and `2027-06-30` stay strings there, while PyYAML's YAML 1.1 rules
make them a boolean and a date. A value the two readers disagree on is
refused, by file and line, instead of being read one way offline and another
way by `pulumi up`. Aliases are refused too (no stack file needs one, and
"billion laughs" alias bombs need nothing else), and the file size is bounded
before parsing, so time and memory stay bounded whatever the file holds.
Aliased nodes are shared, never copied, while composing, so the check runs
before anything could be expanded.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

# The largest shipped stack file is ~5 KiB; a value of megabytes is not config.
MAX_FILE_BYTES = 256 * 1024
# The largest single value a `--set` override may carry (the same reasoning).
MAX_VALUE_BYTES = 64 * 1024
# Stack config is a few levels deep; anything deeper is not config (and would exhaust recursion later).
MAX_DEPTH = 64

_AMBIGUOUS_BOOL = "tag:rta-platform:yaml11-bool"
_AMBIGUOUS_TIMESTAMP = "tag:rta-platform:yaml11-timestamp"
_AMBIGUOUS_SEXAGESIMAL = "tag:rta-platform:yaml11-sexagesimal"
_PLAIN_TYPES = (str, int, float, bool, type(None))


class StackFileError(Exception):
    """A stack or project file cannot be read as config; every problem names the file and line or key."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid stack file:\n" + "\n".join(f"  - {p}" for p in problems))


# libyaml's parser (PyYAML's C loader, ~100x faster than the pure-Python one on a stack file) where it
# is built in; the resolvers below are Python either way.
_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_BaseLoader):
    """A safe loader with YAML 1.2 core booleans and no timestamps (aliases are refused after composing)."""


# Replace PyYAML's YAML 1.1 implicit resolvers with YAML 1.2 core booleans, and mark the scalars
# whose meaning differs between the two (checked first, before PyYAML's int and float) to refuse them.
_YAML11_ONLY: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (_AMBIGUOUS_BOOL, re.compile(r"^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$"), "yYnNoO"),
    (
        _AMBIGUOUS_TIMESTAMP,
        re.compile(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}.*)?$"),
        "0123456789",
    ),
    (_AMBIGUOUS_SEXAGESIMAL, re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$"), "-+0123456789"),
    ("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), "tTfF"),
)
_resolvers: dict[str, list[tuple[str, re.Pattern[str]]]] = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _tag, _regexp, _firsts in reversed(_YAML11_ONLY):
    for _first in _firsts:
        _resolvers.setdefault(_first, []).insert(0, (_tag, _regexp))
_StrictLoader.yaml_implicit_resolvers = _resolvers

_AMBIGUITY = {
    _AMBIGUOUS_BOOL: "is a boolean in YAML 1.1 (PyYAML) but a string in YAML 1.2 (the Pulumi CLI); "
    "for a boolean write true/false",
    _AMBIGUOUS_TIMESTAMP: "is a date in YAML 1.1 (PyYAML) but a string in YAML 1.2 (the Pulumi CLI)",
    _AMBIGUOUS_SEXAGESIMAL: "is a base-60 number in YAML 1.1 (PyYAML) but a string in YAML 1.2 (the Pulumi CLI)",
}


def _where(path: Path, node: Node) -> str:
    mark = node.start_mark
    return f"{path.name}:{mark.line + 1}:{mark.column + 1}"


def _check_nodes(path: Path, node: Node, problems: list[str]) -> None:
    """Every alias, and every scalar the two YAML readers would disagree on, with its line.

    Iterative (nesting is unbounded). An alias makes the composer hand out the anchored node again, so
    a node met twice is an alias; it is reported and not walked again, which also stops alias bombs
    and recursive aliases before anything is expanded.
    """
    stack: list[tuple[Node, int]] = [(node, 0)]
    seen: set[int] = set()
    reported: set[int] = set()
    while stack:
        current, depth = stack.pop()
        if id(current) in seen:
            if id(current) not in reported:
                reported.add(id(current))
                problems.append(
                    f"{_where(path, current)}: this value is reused through an alias (&anchor / *alias); aliases "
                    "are refused in a stack file (none needs one, and they make alias bombs possible): write it out"
                )
            continue
        seen.add(id(current))
        if depth > MAX_DEPTH:
            problems.append(f"{_where(path, current)}: nested more than {MAX_DEPTH} levels deep, which is not config")
            return
        if isinstance(current, ScalarNode):
            if current.tag in _AMBIGUITY:
                problems.append(
                    f"{_where(path, current)}: {current.value} {_AMBIGUITY[current.tag]}; "
                    f"for a string quote it ('{current.value}')"
                )
        elif isinstance(current, SequenceNode):
            stack.extend((child, depth + 1) for child in reversed(current.value))
        elif isinstance(current, MappingNode):
            for key, value in reversed(current.value):
                stack.extend(((value, depth + 1), (key, depth + 1)))


def _longest_line(text: str) -> tuple[int, int]:
    lengths = [len(line) for line in text.splitlines()] or [0]
    longest = max(range(len(lengths)), key=lengths.__getitem__)
    return longest + 1, lengths[longest]


def load(path: Path) -> dict[str, Any]:
    """The file's top-level mapping; raises StackFileError naming the file and line of every problem."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise StackFileError([f"{path.name}: cannot be read ({exc.strerror or exc})"]) from None
    if size > MAX_FILE_BYTES:
        with path.open("rb") as handle:
            head = handle.read(MAX_FILE_BYTES + 1).decode("utf-8", "replace")
        line, length = _longest_line(head)
        raise StackFileError(
            [
                f"{path.name}: {size:,} bytes, more than the {MAX_FILE_BYTES // 1024} KiB a stack file may hold "
                f"(line {line} alone holds at least {length:,} characters); config values are short"
            ]
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise StackFileError([f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    loader = _StrictLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f"{path.name}:{mark.line + 1}:{mark.column + 1}" if mark else path.name
            problem = " ".join(p for p in (exc.context, exc.problem) if p)
            raise StackFileError([f"{where}: YAML syntax error: {problem}"]) from None
        except yaml.YAMLError as exc:
            raise StackFileError([f"{path.name}: YAML error: {exc}"]) from None
        except RecursionError:
            raise StackFileError([f"{path.name}: nested too deeply to be config"]) from None
        if node is None:
            return {}
        if not isinstance(node, MappingNode):
            raise StackFileError([f"{_where(path, node)}: the top level must be a mapping of settings"])
        problems: list[str] = []
        _check_nodes(path, node, problems)
        for key, value in node.value:
            if key.value == "config" and not isinstance(value, MappingNode | type(None)):
                problems.append(f"{_where(path, value)}: `config:` must be a mapping of key: value")
        if problems:
            raise StackFileError(problems)
        try:
            document = loader.construct_document(node)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            where = f"{path.name}:{mark.line + 1}:{mark.column + 1}" if mark else path.name
            raise StackFileError([f"{where}: {exc.problem}"]) from None
        except RecursionError:
            raise StackFileError([f"{path.name}: nested too deeply to be config"]) from None
    finally:
        loader.dispose()
    problems = _unsupported_values(path, document)
    if problems:
        raise StackFileError(problems)
    return document if isinstance(document, dict) else {}


def _unsupported_values(path: Path, document: Any) -> list[str]:
    """Keys that are not strings, and values config cannot hold (binary, sets), named by key path."""
    problems: list[str] = []
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    problems.append(f"{path.name}: key {key!r} under {where or 'the top level'} must be a string")
                stack.append((f"{where}.{key}" if where else str(key), item))
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", item) for i, item in enumerate(value))
        elif not isinstance(value, _PLAIN_TYPES):
            problems.append(f"{path.name}: {where} holds a {type(value).__name__}, which config cannot carry")
    return problems
