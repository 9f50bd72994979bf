"""Bad configuration on the command line: exit code 2, one line on stderr, never a traceback.

The simulating commands (``run``, ``compare``) are tested here as soon as their modules exist;
until then the error path is exercised through ``zonesim policies`` and through a stand-in
sub-command that loads a configuration exactly as they do (``add_config_options`` +
``load_config``), run by the real ``zonesim.cli.main``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import pytest

import zonesim.cli as cli
from zonesim.config import load_config, load_policy, parse_override
from zonesim.errors import ZonesimInputError

BAD_CONFIGS = {
    # name: (file text, what the one-line message must name besides the file)
    "negative_population": ("[zone]\npopulation = -5\n", ["'zone.population'", "-5"]),
    "string_for_number": ("[zone]\npopulation = 'many'\n", ["'zone.population'", "'many'"]),
    "unknown_key": ("[zone]\npopulaton = 5000\n", ["'zone.populaton'", "population"]),
    "utility_above_1": (
        "[parameters.need]\nutility_by_need = [0.9, 0.8, 1.5, 0.4]\n",
        ["'parameters.need.utility_by_need[2]'", "1.5"],
    ),
    "nan": ("[parameters.costs]\ngp_consultation = nan\n", ["gp_consultation", "nan"]),
    "invalid_toml": ("[zone\npopulation = 5\n", ["not valid TOML"]),
    "practice_mix": ("[zone]\npractice_mix = [0.5, 0.5, 0.5]\n", ["'zone.practice_mix'"]),
}

BAD_OVERRIDES = {
    "negative": ("zone.population=-5", ["<override>", "'zone.population'", "-5"]),
    "unknown_key": ("zone.popultion=5", ["<override>", "'zone.popultion'", "population"]),
    "no_equals": ("zone.population", ["<override>", "key=value"]),
    "bool": ("parameters.costs.value_informal_care=1", ["value_informal_care", "1"]),
}


def write_bad(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(BAD_CONFIGS[name][0], encoding="utf-8")
    return path


def assert_one_line_error(rc: int, err: str, *parts: str) -> None:
    assert rc == 2, f"exit code {rc}, stderr: {err!r}"
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {err!r}"
    assert lines[0].startswith("zonesim")
    assert "error" in lines[0]
    for part in parts:
        assert part in lines[0], f"{part!r} not in {lines[0]!r}"


def has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


# ---------------------------------------------------------------------------------------------
# The messages themselves (load_config / load_policy directly)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_load_config_message_is_one_line_naming_file_key_value(tmp_path, name):
    path = write_bad(tmp_path, name)
    with pytest.raises(ZonesimInputError) as info:
        load_config(path)
    msg = str(info.value)
    assert "\n" not in msg
    for part in [str(path), *BAD_CONFIGS[name][1]]:
        assert part in msg


@pytest.mark.parametrize("name", sorted(BAD_OVERRIDES))
def test_load_config_override_message(name):
    override, parts = BAD_OVERRIDES[name]
    with pytest.raises(ZonesimInputError) as info:
        load_config(overrides=[override])
    assert "\n" not in str(info.value)
    for part in parts:
        assert part in str(info.value)


# ---------------------------------------------------------------------------------------------
# Through zonesim.cli.main, with a stand-in sub-command that loads a configuration
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def config_command_main(monkeypatch, capsys):
    """main() with one sub-command, ``check``, that loads config and policy as ``run`` does."""

    def check(args: argparse.Namespace) -> int:
        config_ov = [o for o in args.override if not parse_override(o)[0].startswith("policy.")]
        policy_ov = [o for o in args.override if parse_override(o)[0].startswith("policy.")]
        load_config(args.config, config_ov, scenario=args.scenario)
        load_policy(args.policy, policy_ov)
        print("ok")
        return 0

    def build_parser() -> argparse.ArgumentParser:
        parser = cli._Parser(prog="zonesim")
        sub = parser.add_subparsers(dest="command", parser_class=cli._Parser)
        sub.required = True
        p = sub.add_parser("check")
        cli.add_config_options(p)
        p.add_argument("--policy", default="status_quo")
        p.set_defaults(func=check)
        return parser

    monkeypatch.setattr(cli, "build_parser", build_parser)

    def run(*argv) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            rc = cli.main([str(a) for a in argv])
        except SystemExit as exc:  # argparse's usage errors
            rc = exc.code
        out, err = capsys.readouterr()
        return rc, out, err

    return run


def test_stand_in_command_accepts_good_input(config_command_main, tmp_path):
    good = tmp_path / "good.toml"
    good.write_text("[zone]\npopulation = 20000\n", encoding="utf-8")
    rc, out, err = config_command_main(
        "check", "--config", good, "-o", "scenario.years=2", "-o", "policy.caseload_cap=40"
    )
    assert (rc, out, err) == (0, "ok\n", "")


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_main_bad_config_file(config_command_main, tmp_path, name):
    path = write_bad(tmp_path, name)
    rc, out, err = config_command_main("check", "--config", path)
    assert_one_line_error(rc, err, str(path), *BAD_CONFIGS[name][1])
    assert out == ""


@pytest.mark.parametrize("name", sorted(BAD_OVERRIDES))
def test_main_bad_override(config_command_main, name):
    override, parts = BAD_OVERRIDES[name]
    rc, _, err = config_command_main("check", "-o", override)
    assert_one_line_error(rc, err, *parts)


def test_main_missing_config_file_and_folder(config_command_main, tmp_path):
    missing = tmp_path / "missing.toml"
    rc, _, err = config_command_main("check", "--config", missing)
    assert_one_line_error(rc, err, str(missing), "not found")
    rc, _, err = config_command_main("check", "--config", tmp_path)
    assert_one_line_error(rc, err, str(tmp_path), "folder")


def test_main_unknown_scenario_and_policy(config_command_main):
    rc, _, err = config_command_main("check", "--scenario", "nope")
    assert_one_line_error(rc, err, "'nope'", "care_paradox")
    rc, _, err = config_command_main("check", "--policy", "nope")
    assert_one_line_error(rc, err, "'nope'", "status_quo")
    rc, _, err = config_command_main("check", "-o", "policy.allocation_rule=random")
    assert_one_line_error(rc, err, "'policy.allocation_rule'", "'random'")


def test_main_usage_error_is_one_line(config_command_main):
    rc, _, err = config_command_main("check", "--no-such-option")
    assert_one_line_error(rc, err, "--no-such-option")


# ---------------------------------------------------------------------------------------------
# Through `zonesim policies` (real sub-command), in-process and in a subprocess
# ---------------------------------------------------------------------------------------------


def test_policies_bad_file_through_main(zonesim_main, tmp_path):
    path = tmp_path / "pol.toml"
    path.write_text("allocation_rule = 'random'\n", encoding="utf-8")
    rc, out, err = zonesim_main("policies", path)
    assert_one_line_error(rc, err, str(path), "'policy.allocation_rule'", "'random'")
    assert out == ""


@pytest.mark.parametrize("name", ["invalid_toml", "unknown_key"])
def test_policies_bad_file_subprocess(zonesim_subprocess, tmp_path, name):
    path = tmp_path / "pol.toml"
    path.write_text(
        {"invalid_toml": "caseload_cap = = 1\n", "unknown_key": "caseload_capp = 40\n"}[name],
        encoding="utf-8",
    )
    proc = zonesim_subprocess("policies", path)
    assert_one_line_error(proc.returncode, proc.stderr, str(path))
    assert proc.stdout == ""


def test_policies_unknown_name_subprocess(zonesim_subprocess):
    proc = zonesim_subprocess("policies", "no_such_policy")
    assert_one_line_error(proc.returncode, proc.stderr, "'no_such_policy'", "status_quo")


def test_policies_missing_file_subprocess(zonesim_subprocess, tmp_path):
    missing = tmp_path / "missing.toml"
    proc = zonesim_subprocess("policies", missing)
    assert_one_line_error(proc.returncode, proc.stderr, str(missing), "not found")


# ---------------------------------------------------------------------------------------------
# The simulating commands, as soon as they exist
# ---------------------------------------------------------------------------------------------

SIMULATING = [
    pytest.param(
        cmd,
        marks=pytest.mark.skipif(
            not has_module(f"zonesim.cli.{cmd}"),
            reason=f"zonesim.cli.{cmd} is not written yet",
        ),
    )
    for cmd in ("run", "compare")
]


@pytest.mark.parametrize("command", SIMULATING)
@pytest.mark.parametrize("name", ["negative_population", "unknown_key", "invalid_toml"])
def test_simulating_command_with_bad_config_exits_2(zonesim_main, tmp_path, command, name):
    """``zonesim run --config BAD`` (and compare): exit 2, one line naming file, key, value."""
    path = write_bad(tmp_path, name)
    rc, out, err = zonesim_main(command, "--config", path)
    assert_one_line_error(rc, err, str(path), *BAD_CONFIGS[name][1])
    assert out == ""


@pytest.mark.parametrize("command", SIMULATING)
@pytest.mark.parametrize("name", sorted(BAD_OVERRIDES))
def test_simulating_command_with_bad_override_exits_2(zonesim_main, command, name):
    override, parts = BAD_OVERRIDES[name]
    rc, _, err = zonesim_main(command, "-o", override)
    assert_one_line_error(rc, err, *parts)


@pytest.mark.parametrize("command", SIMULATING)
def test_simulating_command_with_bad_config_subprocess(zonesim_subprocess, tmp_path, command):
    path = write_bad(tmp_path, "negative_population")
    proc = zonesim_subprocess(command, "--config", path)
    assert_one_line_error(proc.returncode, proc.stderr, str(path), "'zone.population'", "-5")


@pytest.mark.skipif(
    any(not has_module(f"zonesim.cli.{c}") for c in cli.COMMANDS),
    reason="some sub-commands are not written yet: "
    + ", ".join(c for c in cli.COMMANDS if not has_module(f"zonesim.cli.{c}")),
)
def test_console_script_reports_bad_override(tmp_path):
    """The installed ``zonesim`` entry point (next to this interpreter) behaves the same."""
    import subprocess

    exe = Path(sys.executable).with_name("zonesim")
    if not exe.exists():
        pytest.skip(f"no console script at {exe} (package not installed in this environment)")
    proc = subprocess.run(
        [str(exe), "policies", "status_quo", "--format", "json"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run(
        [str(exe), "run", "-o", "zone.population=-5"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
        cwd=tmp_path,
    )
    assert_one_line_error(proc.returncode, proc.stderr, "'zone.population'", "-5")
