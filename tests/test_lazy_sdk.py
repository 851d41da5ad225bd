"""The offline engine's lazy provider SDKs resolve to the SDKs' own classes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_exported_name_resolves_to_the_same_class_as_an_eager_import() -> None:
    # A fresh interpreter: the lazy stand-in only installs when the SDK is not imported yet.
    script = textwrap.dedent(
        """
        import importlib, sys
        from offline import lazy_sdk
        for package in ("pulumi_databricks", "pulumi_confluentcloud"):
            assert lazy_sdk.install(package), package
            lazy = sys.modules[package]
            names = {"Job": None, "Provider": None, "Grants": None, "KafkaCluster": None}
            resolved = {}
            import re
            init = open(lazy.__file__).read()
            for sub in re.findall(r"^from \\.(\\w+) import \\*$", init, re.M):
                mod = importlib.import_module(f"{package}.{sub}")
                for name in getattr(mod, "__all__", []):
                    value = getattr(lazy, name)
                    assert value is getattr(mod, name), (package, name)
                    resolved[name] = value
            assert len(resolved) > 300 if package == "pulumi_databricks" else len(resolved) > 50, len(resolved)
            try:
                getattr(lazy, "NoSuchThing")
            except AttributeError:
                pass
            else:
                raise SystemExit("unknown names must raise AttributeError")
        import pulumi_databricks
        assert pulumi_databricks.Job.__module__ == "pulumi_databricks.job"
        assert pulumi_databricks.config is not None
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")


_TYPE_HINTS = textwrap.dedent(
    """
    import importlib, inspect, json, sys
    import pulumi._types as t
    if sys.argv[1] == "postponed":
        from offline import lazy_sdk
        lazy_sdk.postpone_annotations("pulumi_databricks", "pulumi_azure_native")
        lazy_sdk.speed_up_runtime()
    out = {}
    for name in ("pulumi_azure_native.keyvault._inputs", "pulumi_azure_native.keyvault.outputs",
                 "pulumi_azure_native.keyvault.vault", "pulumi_databricks.job"):
        mod = importlib.import_module(name)
        if sys.argv[1] == "postponed":
            assert mod.__spec__.loader.__class__.__name__ == "_PostponedAnnotationsLoader", name
        for cname, cls in sorted(vars(mod).items()):
            if not inspect.isclass(cls) or cls.__module__ != name:
                continue
            if t.is_input_type(cls):
                out[f"{name}.{cname}"] = repr(sorted(t.input_type_types(cls).items()))
            elif t.is_output_type(cls):
                out[f"{name}.{cname}"] = repr(sorted(t.output_type_types(cls).items()))
            elif hasattr(cls, "get") and issubclass(cls, __import__("pulumi").CustomResource):
                out[f"{name}.{cname}"] = repr(sorted(t.resource_types(cls).items()))
    print(json.dumps(out))
    """
)


def test_postponed_annotations_give_the_runtime_the_same_types_as_an_eager_import() -> None:
    # What the Pulumi runtime reads from annotations (input, output and resource property types,
    # pulumi/_types.py) must not depend on how the offline engine compiled the SDK module.
    def hints(mode: str) -> dict[str, str]:
        result = subprocess.run(
            [sys.executable, "-c", _TYPE_HINTS, mode], cwd=ROOT, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return json.loads(result.stdout)

    eager, postponed = hints("eager"), hints("postponed")
    assert len(eager) > 50, "the comparison must cover the SDK's input, output and resource types"
    assert postponed == eager


def test_every_azure_native_module_the_program_imports_loads_lazily_offline() -> None:
    # An azure-native subpackage missing from LAZY_SDKS runs its eager __init__ (security's costs
    # ~0.5 s): a new component must not quietly slow every preview down.
    import re

    from offline.engine import LAZY_SDKS

    used: set[str] = set()
    for folder in ("components", "layers", "stack_config"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for names in re.findall(r"^from pulumi_azure_native import ([\w, ]+)", text, re.MULTILINE):
                used.update(n.strip().split(" as ")[0] for n in names.split(","))
            used.update(re.findall(r"pulumi_azure_native\.(\w+)", text))
    assert used, "the scan found no azure-native import: the pattern no longer matches the code"
    missing = {f"pulumi_azure_native.{m}" for m in used} - set(LAZY_SDKS)
    assert not missing, f"add to offline.engine.LAZY_SDKS: {sorted(missing)}"


def test_the_fast_empty_function_test_agrees_with_the_sdk_s_on_every_getter_and_setter() -> None:
    import inspect

    import pulumi
    from pulumi import _utils
    from pulumi_azure_native.keyvault import _inputs, outputs, vault

    from offline import lazy_sdk

    sdk = getattr(_utils.is_empty_function, "__wrapped__", _utils.is_empty_function)
    fast = lazy_sdk._fast_is_empty_function(sdk)

    def empty_getter(self):  # type: ignore[no-untyped-def]
        """A getter the SDK replaces by its own (only its docstring differs from the reference)."""

    def ellipsis_getter(self) -> str: ...  # type: ignore[empty-body]

    def nearly_empty(self):  # type: ignore[no-untyped-def]
        return 0

    functions = [_utils._empty, _utils._empty_doc, _utils._empty_lambda, _utils._empty_lambda_doc]
    functions += [empty_getter, ellipsis_getter, nearly_empty, lambda: 1, lambda: None]
    for module in (_inputs, outputs, vault):
        for cls in vars(module).values():
            if inspect.isclass(cls):
                for attr in vars(cls).values():
                    if isinstance(attr, property):
                        for fn in (attr.fget, attr.fset):
                            functions.extend(f for f in (fn, getattr(fn, "__wrapped__", None)) if f is not None)
    verdicts = [(sdk(fn), fast(fn)) for fn in functions]
    assert sum(s for s, _ in verdicts) >= 6 and sum(not s for s, _ in verdicts) > 50, "both kinds must be covered"
    assert all(s == f for s, f in verdicts)
    assert pulumi is not None


def test_no_monitor_the_offline_engine_uses_reads_a_registration_s_stack_trace() -> None:
    # offline.lazy_sdk.speed_up_runtime sends empty stack traces: that is only free while the monitors ignore them.
    import inspect

    from pulumi.runtime import mocks

    from offline import engine

    for source in (inspect.getsource(mocks), inspect.getsource(engine)):
        assert "RegisterResource" in source
        assert "stackTrace" not in source and "sourcePosition" not in source
