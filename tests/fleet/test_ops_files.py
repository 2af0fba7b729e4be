"""The fleet's files in ops/: the alert rules pass promtool's check and their own unit tests, and every
metric the rules and the Grafana dashboard query is one a kiosk exports (a renamed metric would leave a
silent alert or an empty panel)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import require_command

OPS = Path(__file__).resolve().parents[2] / "ops"
RULES = OPS / "prometheus" / "kiosk-rules.yml"
DASHBOARD = OPS / "grafana" / "kiosk-fleet.json"
METRIC = re.compile(r"\bkiosk_[a-z0-9_]+")


def exported_names(app) -> set[str]:
    """Every family and sample name a kiosk's registry exports (histograms add _bucket, _sum, _count)."""
    text = generate_latest(app.extensions["kiosk"].metrics.registry).decode()
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
    return names


def rule_expressions() -> list[str]:
    """The whole rules file: a kiosk_ name anywhere in it (an expression, or an annotation telling the
    technician which metric to read) must exist."""
    return [RULES.read_text(encoding="utf-8")]


def dashboard_expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def test_promtool_checks_the_rules():
    promtool = require_command("promtool", "prometheus")
    result = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 10 rules found" in result.stdout


def test_the_rules_fire_on_their_unit_tests():
    promtool = require_command("promtool", "prometheus")
    result = subprocess.run([promtool, "test", "rules", "kiosk-rules.test.yml"], cwd=RULES.parent,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_metric_the_rules_and_the_dashboard_query_is_exported(app):
    exported = exported_names(app)
    queried = {name for expr in rule_expressions() + dashboard_expressions() for name in METRIC.findall(expr)}
    assert queried - exported == set()
    assert {"kiosk_out_of_service", "kiosk_issuances_failed_total", "kiosk_data_dir_free_bytes"} <= queried
    assert 'up{job="cert-kiosk"} == 0' in rule_expressions()[0]


def test_the_dashboard_is_grafana_json_with_a_query_in_every_panel():
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    panels = dashboard["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    for panel in panels:
        if panel["type"] != "row":
            assert panel["targets"] and all(t["expr"].strip() for t in panel["targets"]), panel["title"]


def test_docs_fleet_lists_every_exported_metric(app):
    text = (OPS.parent / "docs" / "fleet.md").read_text(encoding="utf-8")
    text_families = {name.removesuffix("_total") for name in re.findall(r"`(kiosk_[a-z0-9_]+)`", text)}
    exported = {name for name in exported_names(app)
                if not name.endswith(("_bucket", "_count", "_sum", "_total"))}
    assert exported - text_families == set()


def test_the_fleets_target_version_is_the_version_this_tree_builds():
    """KioskOnOldVersion compares each kiosk with the target in the rules: a release that bumps
    pyproject.toml's version and forgets the rules would page about every kiosk that updated."""
    version = re.search(r'^version = "([^"]+)"', (OPS.parent / "pyproject.toml").read_text(), re.M).group(1)
    assert f'label_replace(vector(1), "version", "{version}", "", "")' in RULES.read_text(encoding="utf-8")
