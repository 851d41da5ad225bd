"""Load a generated Pulumi provider SDK on demand, for the offline engine only.

`import pulumi_databricks` executes all ~390 resource modules of the SDK's
`__init__` (about 2.8 s and 160 MB here), although the stack uses about twenty.
The offline preview has a 4-second budget, so the engine installs a stand-in
package module that resolves each public name from the module that defines it
the first time it is used. The classes are the SDK's own, unchanged; only the
eager `from .x import *` lines are skipped. The SDK's resource-module
registration (used to rehydrate resource references) still runs, from the
SDK's own `__init__` text. The real `pulumi up` imports the SDK normally.

The SDKs' modules are also compiled with postponed evaluation of annotations
(PEP 563, `from __future__ import annotations`): their bodies build about
17,000 `Optional[pulumi.Input[...]]` annotations that nothing reads while a
program runs, 0.8 s of CPU per preview. The Pulumi runtime reads them only
through `typing.get_type_hints` (pulumi/_types.py), which resolves the
postponed strings to the same types; tests/test_lazy_sdk.py holds the two
imports to the same type hints. The code objects are cached outside the SDK
(`$XDG_CACHE_HOME/rta-platform/offline-pyc`), so the SDK's own `__pycache__`,
which the real `pulumi up` uses, is never touched.
"""

from __future__ import annotations
import __future__

import functools
import hashlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import marshal
import os
import re
import sys
import tempfile
import types
from pathlib import Path
from typing import Any

_POSTPONED = __future__.annotations.compiler_flag


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rta-platform" / "offline-pyc"


class _PostponedAnnotationsLoader(importlib.machinery.SourceFileLoader):
    """The SDK module's own source, compiled with annotations postponed; code cached beside, never in, the SDK."""

    def get_code(self, fullname: str) -> Any:
        path = self.get_filename(fullname)
        st = os.stat(path)
        key = f"{path}|{st.st_mtime_ns}|{st.st_size}|{importlib.util.MAGIC_NUMBER.hex()}|{_POSTPONED}"
        cached = _cache_dir() / f"{fullname}.{hashlib.sha256(key.encode()).hexdigest()[:24]}.pyc"
        try:
            return marshal.loads(cached.read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            pass
        code = compile(self.get_data(path), path, "exec", flags=_POSTPONED, dont_inherit=True)
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=cached.parent, delete=False) as tmp:
                tmp.write(marshal.dumps(code))
            os.replace(tmp.name, cached)  # atomic: parallel test workers may compile the same module
        except OSError:
            pass  # a read-only home only costs the compile next time
        return code


class _PostponedAnnotationsFinder(importlib.abc.MetaPathFinder):
    """Finds the modules of the given SDK packages as usual, and loads them with postponed annotations."""

    def __init__(self, prefixes: tuple[str, ...]) -> None:
        self.prefixes = prefixes

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if not fullname.startswith(self.prefixes):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and type(spec.loader) is importlib.machinery.SourceFileLoader:
            spec.loader = _PostponedAnnotationsLoader(spec.loader.name, spec.loader.path)
        return spec


def postpone_annotations(*packages: str) -> None:
    """Load the modules of `packages` (not yet imported ones) with postponed annotations; idempotent."""
    prefixes = tuple(f"{p}." for p in packages)
    for finder in sys.meta_path:
        if isinstance(finder, _PostponedAnnotationsFinder):
            finder.prefixes = tuple(dict.fromkeys(finder.prefixes + prefixes))
            return
    sys.meta_path.insert(0, _PostponedAnnotationsFinder(prefixes))


_STAR_IMPORT = re.compile(r"^from \.(\w+) import \*$", re.MULTILINE)
_ALL = re.compile(r"^__all__ = \[(.*?)\]", re.MULTILINE | re.DOTALL)
_NAME = re.compile(r"'(\w+)'")
_REGISTER = re.compile(r"^_utilities\.register\(.*?^\)$", re.MULTILINE | re.DOTALL)


def _exported_names(source: Path) -> list[str]:
    match = _ALL.search(source.read_text(encoding="utf-8"))
    return _NAME.findall(match.group(1)) if match else []


class _LazyPackage(types.ModuleType):
    """A package whose import of a submodule never shadows the same-named function it exports.

    Importing `pkg.get_x` binds the submodule to `pkg.get_x`; the eager `__init__`
    then re-binds the name to the function via `from .get_x import *`. Here the
    binding of a submodule over an exported name is simply not made.
    """

    _exported: frozenset[str] = frozenset()

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and name in self._exported:
            return
        super().__setattr__(name, value)


def install(package: str) -> bool:
    """Replace `package` in sys.modules by a lazy stand-in; False if it was already imported or absent."""
    parent_name, _, child = package.rpartition(".")
    parent = importlib.import_module(parent_name) if parent_name else None
    existing = sys.modules.get(package)
    # A parent SDK may have registered the subpackage with importlib's LazyLoader; that
    # placeholder (not yet loaded: type() does not trigger loading) may be replaced.
    if existing is not None and type(existing).__name__ != "_LazyModule":
        return False
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return False
    init = Path(spec.origin)
    init_source = init.read_text(encoding="utf-8")
    index: dict[str, str] = {}
    star_modules = _STAR_IMPORT.findall(init_source)
    for submodule in star_modules:
        if submodule != "_inputs":  # large; its names are the fallback below
            for name in _exported_names(init.parent / f"{submodule}.py"):
                index[name] = submodule  # later star-imports win, as in the eager __init__

    module: _LazyPackage
    if existing is not None:
        # Convert the placeholder in place: code that already holds it keeps a working module.
        existing.__class__ = _LazyPackage
        module = existing  # type: ignore[assignment]
    else:
        module = _LazyPackage(package, f"lazy stand-in for {package} (offline engine)")
    module._exported = frozenset(index)
    module.__file__ = str(init)
    module.__path__ = [str(init.parent)]
    module.__package__ = package
    module.__spec__ = spec

    def __getattr__(name: str) -> Any:  # noqa: N807 - PEP 562 hook
        if name in index:
            value = getattr(importlib.import_module(f"{package}.{index[name]}"), name)
        elif "_inputs" in star_modules and (name.endswith(("Args", "ArgsDict")) or name[:1].isupper()):
            value = getattr(importlib.import_module(f"{package}._inputs"), name, None)
            if value is None:
                raise AttributeError(f"module {package!r} has no attribute {name!r}")
        elif name in ("config", "outputs") or (init.parent / f"{name}.py").exists() or (init.parent / name).is_dir():
            value = importlib.import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(module, name, value)
        return value

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[package] = module
    if parent is not None:
        setattr(parent, child, module)
    register = _REGISTER.search(init_source)
    if register:
        utilities = importlib.import_module(f"{package}._utilities")
        exec(register.group(0), {"_utilities": utilities})  # the SDK's own registration call
    return True


# ----------------------------------------------------------------------------- runtime speed-ups


@functools.cache
def _compile_expression(source: str, filename: str, mode: str) -> types.CodeType:
    return compile(source, filename, mode)


def _compile_once(source: Any, filename: Any, mode: Any, *args: Any, **kwargs: Any) -> Any:
    """`typing.ForwardRef` compiles its string on every `get_type_hints`; the same string gives the same code."""
    if args or kwargs or not isinstance(source, str):
        return compile(source, filename, mode, *args, **kwargs)
    return _compile_expression(source, filename, mode)


def _fast_is_empty_function(original: Any) -> Any:
    """The SDK's `is_empty_function` with its cheap test first: compare bytecode, then constants.

    `pulumi._utils.is_empty_function` builds a tuple of the function's constants
    before it compares bytecode; the `@pulumi.getter` decorator calls it for
    each of the ~28,000 getters the stack's SDK modules define, and almost none
    is empty. Same four reference functions, same two comparisons, same result.
    """
    from pulumi import _utils

    empties = [
        (f.__code__.co_code, _utils._consts(f))
        for f in (_utils._empty, _utils._empty_doc, _utils._empty_lambda, _utils._empty_lambda_doc)
    ]

    def is_empty_function(fn: Any) -> bool:
        code = fn.__code__.co_code
        return any(code == empty_code and _utils._consts(fn) == consts for empty_code, consts in empties)

    is_empty_function.__wrapped__ = original  # type: ignore[attr-defined]
    return is_empty_function


def _no_stack_trace() -> Any:
    from pulumi.runtime.proto import source_pb2

    return source_pb2.StackTrace()


def speed_up_runtime() -> None:
    """Work the Pulumi runtime repeats per preview and the offline engine never uses, made cheap; idempotent.

    - The postponed annotations above are resolved by `typing.get_type_hints`,
      which compiles each annotation string anew (13,000 compiles for prod); the
      compile is memoized for `typing` only.
    - The empty-getter test (`_fast_is_empty_function`).
    - Each registration walks the Python stack with source lines
      (`traceback.extract_stack`) to send a stack trace and source position to
      the engine; the offline engine's monitor (RecordingMonitor over the SDK's
      MockMonitor) never reads either field, so it gets an empty trace.

    The first two return what the originals return, and the monitor's not
    reading the trace is held by tests/test_lazy_sdk.py; only the offline engine
    installs these.
    """
    import typing

    from pulumi import _utils
    from pulumi.runtime import resource as runtime_resource

    runtime_resource._get_stack_trace = _no_stack_trace

    typing.compile = _compile_once  # type: ignore[attr-defined]  # shadows the builtin for typing alone
    if not hasattr(_utils.is_empty_function, "__wrapped__"):
        _utils.is_empty_function = _fast_is_empty_function(_utils.is_empty_function)
