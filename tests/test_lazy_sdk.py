"""The offline engine's lazy provider SDKs resolve to the SDKs' own classes."""

from __future__ import annotations

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
