"""The offline preview command: the project's main job on its embedded default."""

from __future__ import annotations

import io
import json
from pathlib import Path

from offline import preview


def test_preview_prints_tree_counts_outputs_and_writes_the_plan(tmp_path: Path) -> None:
    out = io.StringIO()
    plan_path = tmp_path / "plan.json"
    code = preview.main(["--stack", "prod", "--no-policies", "--json", str(plan_path)], out=out)
    text = out.getvalue()
    assert code == preview.EXIT_OK, text
    # Resources appear under their components in the tree.
    assert "[KeyVault]  keyvault" in text
    assert "azure-native:keyvault:Vault  keyvault-kv" in text
    assert "├─ " in text and "│  " in text
    assert "azure-native:network:PrivateEndpoint" in text and "resources to create in" in text
    assert "kafkaBootstrapServers:" in text
    # The capacity table: prod's declared load against its 2 Premium PUs (docs/capacity.md).
    assert "Capacity (stack_config/capacity_model.py" in text
    pus = next(line for line in text.splitlines() if "Event Hubs Premium processing units" in line)
    assert pus.split()[-6:] == ["1.56", "PUs", "2", "PUs", "+28", "%"], pus
    # The priced inventory (offline/cost.py): prod's firewall is priced, the cost per million waits for the rest.
    assert "Estimated monthly cost (offline/cost.py" in text
    assert "firewall.premium.deployment-hour" in text and "unpriced meters (" in text
    assert "M events a month at the declared load; seed 001's target $0.85" in text
    plan = json.loads(plan_path.read_text())
    assert plan["stack"] == "prod" and plan["preview"] is True
    vault = next(r for r in plan["resources"] if r["type"] == "azure-native:keyvault:Vault")
    assert vault["parent"].endswith("rta:platform:KeyVault::keyvault")
    assert vault["inputs"]["properties"]["enableRbacAuthorization"] is True
    assert any(r["dependencies"] for r in plan["resources"])


def test_counts_match_the_plan(tmp_path: Path) -> None:
    out = io.StringIO()
    plan_path = tmp_path / "plan.json"
    preview.main(["--stack", "dev", "--no-policies", "--quiet", "--json", str(plan_path)], out=out)
    plan = json.loads(plan_path.read_text())
    custom = [r for r in plan["resources"] if r["custom"]]
    assert f"{len(custom)} resources to create" in out.getvalue()
    assert "├─ " not in out.getvalue(), "--quiet prints no tree"
    assert "Capacity: no `capacity` section" in out.getvalue()
