"""``zonesim policies``: the built-in presets and the levers of one."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest

from zonesim.config import PolicyConfig, builtin_names, load_policy, to_dict

PRESETS = builtin_names("policies")
LEVERS = [f.name for f in fields(PolicyConfig) if f.name not in ("name", "description")]


def changed_levers(name: str) -> dict:
    default = to_dict(PolicyConfig())
    return {k: v for k, v in to_dict(load_policy(name)).items() if k in LEVERS and default[k] != v}


def test_presets_exist():
    assert "status_quo" in PRESETS
    assert len(PRESETS) >= 5


def test_list_table(zonesim_main):
    rc, out, err = zonesim_main("policies")
    assert (rc, err) == (0, "")
    for name in PRESETS:
        assert f"\n{name} " in out
        assert load_policy(name).description.split()[0] in out
    assert "gatekeeping = strict  (default direct_access)" in out
    assert "information_point = true  (default false)" in out
    assert "case_manager_fte_per_100k = 6 FTE/100k  (default 1)" in out
    assert "(all levers at their defaults)" in out  # status_quo


def test_list_json(zonesim_main):
    rc, out, err = zonesim_main("policies", "--format", "json")
    assert (rc, err) == (0, "")
    rows = json.loads(out)
    assert [r["name"] for r in rows] == PRESETS
    for row in rows:
        pol = load_policy(row["name"])
        assert row["description"] == pol.description
        assert {k: c["value"] for k, c in row["changes"].items()} == changed_levers(row["name"])
        for lever, change in row["changes"].items():
            assert change["default"] == getattr(PolicyConfig(), lever)
            assert change["unit"]
    by_name = {r["name"]: r for r in rows}
    assert by_name["status_quo"]["changes"] == {}
    assert set(by_name["strict_gatekeeping"]["changes"]) == {"gatekeeping"}
    assert by_name["strict_gatekeeping"]["changes"]["gatekeeping"]["value"] == "strict"


@pytest.mark.parametrize("name", PRESETS)
def test_show_json_lists_every_lever_with_unit_and_doc(zonesim_main, name):
    rc, out, err = zonesim_main("policies", name, "--format", "json")
    assert (rc, err) == (0, "")
    detail = json.loads(out)
    pol = load_policy(name)
    assert detail["name"] == name
    assert detail["description"] == pol.description
    assert [r["lever"] for r in detail["levers"]] == LEVERS
    default = PolicyConfig()
    for r in detail["levers"]:
        assert r["value"] == getattr(pol, r["lever"])
        assert r["default"] == getattr(default, r["lever"])
        assert r["differs"] == (r["value"] != r["default"])
        assert r["unit"] and r["doc"]
    assert {r["lever"] for r in detail["levers"] if r["differs"]} == set(changed_levers(name))


def test_show_table(zonesim_main):
    rc, out, err = zonesim_main("policies", "integrated")
    assert (rc, err) == (0, "")
    assert out.startswith("policy integrated")
    for lever in LEVERS:
        assert f" {lever} = " in out
    assert "* gatekeeping = strict  (default direct_access)" in out
    assert "  caseload_cap = 50 clients/FTE\n" in out  # unchanged: no mark, no default
    assert "Case-manager FTE per 100,000 inhabitants." in out
    assert "One of: none, fcfs, highest_need, equity_weighted." in out


def test_show_file(zonesim_main, tmp_path):
    path = tmp_path / "my_policy.toml"
    path.write_text("[policy]\ncaseload_cap = 40\ninformation_point = true\n", encoding="utf-8")
    rc, out, err = zonesim_main("policies", path, "--format", "json")
    assert (rc, err) == (0, "")
    detail = json.loads(out)
    assert detail["name"] == "my_policy"
    assert detail["source"] == str(path)
    changed = {r["lever"]: r["value"] for r in detail["levers"] if r["differs"]}
    assert changed == {"caseload_cap": 40, "information_point": True}
    rc, out, _ = zonesim_main("policies", path)
    assert rc == 0
    assert "* caseload_cap = 40 clients/FTE  (default 50)" in out


@pytest.mark.parametrize(
    ("args", "parts"),
    [
        (["nope"], ["'nope'", "unknown policy", "status_quo"]),
        (["missing.toml"], ["missing.toml", "not found"]),
        (["--format", "xml"], ["--format", "xml"]),
    ],
)
def test_errors_exit_2_with_one_line(zonesim_main, tmp_cwd, args, parts):
    rc, out, err = zonesim_main("policies", *args)
    assert rc == 2
    assert out == ""
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    for part in parts:
        assert part in err


def test_bad_file_exits_2(zonesim_main, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("caseload_cap = -1\n", encoding="utf-8")
    rc, out, err = zonesim_main("policies", path)
    assert (rc, out) == (2, "")
    assert err.splitlines() == [err.strip()]
    assert str(path) in err and "'policy.caseload_cap'" in err and "-1" in err
    rc, _, err = zonesim_main("policies", tmp_path)
    assert rc == 2 and "folder" in err


def test_subprocess_json(zonesim_subprocess):
    proc = zonesim_subprocess("policies", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert [r["name"] for r in json.loads(proc.stdout)] == PRESETS
