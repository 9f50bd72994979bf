"""The bad-input corpus (tests/data/bad_inputs/): every file is fed to the command that reads it.

Each case must give exit code 2, exactly one line on stderr naming the input (the file), the
field and the value, no traceback, and leave the working folder exactly as it was: no output
folder, no half-written file (``--out`` folders are checked not to appear).

Every file of the corpus has an entry in ``CASES`` (a test checks it), so a file added without
its expectation fails instead of being silently skipped. Command-line arguments are cases too
(``BAD_ARGUMENTS``). A few cases also run through a real ``python -m zonesim`` subprocess.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from test_cli_config_errors import assert_one_line_error

CORPUS = Path(__file__).parent / "data" / "bad_inputs"

# The fast settings of a compare that would run (none should: every input here is bad).
QUICK_COMPARE = ("-r", "2", "-y", "0.01", "--warmup-days", "0", "-w", "1")

# corpus file -> what the one-line message must contain besides the exit code: the input's file
# name first, then the field and the value.
CASES: dict[str, list[str]] = {
    # --- configurations (zonesim run --config F; zonesim compare --config F --out DIR) ---------
    "configs/absurd_years.toml": ["absurd_years.toml", "'scenario.years'", "1000000.0"],
    "configs/age_edges_decreasing.toml": [
        "age_edges_decreasing.toml",
        "'parameters.need.age_band_edges'",
        "increasing",
    ],
    "configs/bool_for_number.toml": ["bool_for_number.toml", "'zone.population'", "True"],
    "configs/csv_text_in_population.toml": [
        "text_in_population.csv",
        "row 3: population",
        "'lots'",
    ],
    "configs/csv_zone_over_a_million.toml": [
        "zone_over_a_million.csv",
        "'zone.zone_id'",
        "1,500,000 inhabitants",
    ],
    "configs/duplicate_key.toml": ["duplicate_key.toml", "not valid TOML", "line 3"],
    "configs/empty_list.toml": ["empty_list.toml", "'parameters.need.utility_by_need'", "[]"],
    "configs/fractional_population.toml": [
        "fractional_population.toml",
        "'zone.population'",
        "5000.5",
    ],
    "configs/huge_integer.toml": ["huge_integer.toml", "'zone.population'", "9223372036854775807"],
    "configs/inf.toml": ["inf.toml", "'scenario.years'", "inf", "finite"],
    "configs/invalid_toml.toml": ["invalid_toml.toml", "not valid TOML"],
    "configs/latin1.toml": ["latin1.toml", "UTF-8"],
    "configs/list_for_number.toml": [
        "list_for_number.toml",
        "'parameters.gatekeeper.gp_fte_per_100k'",
        "[70.0]",
    ],
    "configs/list_too_short.toml": [
        "list_too_short.toml",
        "'parameters.need.utility_by_need'",
        "[0.9, 0.8]",
    ],
    "configs/minus_inf.toml": [
        "minus_inf.toml",
        "'parameters.gatekeeper.gp_fte_per_100k'",
        "-inf",
    ],
    "configs/missing_csv.toml": ["no_such_table.csv", "not found"],
    "configs/more_munis_than_people.toml": [
        "more_munis_than_people.toml",
        "'zone.population'",
        "got 3",
    ],
    "configs/nan.toml": ["nan.toml", "'parameters.costs.gp_consultation'", "nan", "finite"],
    "configs/nan_in_list.toml": [
        "nan_in_list.toml",
        "'parameters.need.utility_by_need[1]'",
        "nan",
    ],
    "configs/negative_population.toml": ["negative_population.toml", "'zone.population'", "-5"],
    "configs/negative_share.toml": [
        "negative_share.toml",
        "'scenario.share_65plus_start'",
        "-0.2",
    ],
    "configs/number_for_bool.toml": [
        "number_for_bool.toml",
        "'parameters.costs.value_informal_care'",
        "got 1",
    ],
    "configs/number_for_table.toml": ["number_for_table.toml", "'zone'", "5000"],
    "configs/over_a_million.toml": ["over_a_million.toml", "'zone.population'", "1500000"],
    "configs/practice_mix_sum.toml": ["practice_mix_sum.toml", "'zone.practice_mix'", "0.5"],
    "configs/quoted_number.toml": [
        "quoted_number.toml",
        "'parameters.caregivers.caregiver_share'",
        "'0.5'",
    ],
    "configs/string_for_number.toml": ["string_for_number.toml", "'zone.population'", "'many'"],
    "configs/table_for_number.toml": ["table_for_number.toml", "'zone.population'", "'value'"],
    "configs/unknown_key.toml": ["unknown_key.toml", "'zone.populaton'", "population"],
    "configs/unknown_parameter_group.toml": [
        "unknown_parameter_group.toml",
        "'parameters.gatekeper'",
        "gatekeeper",
    ],
    "configs/unknown_table.toml": ["unknown_table.toml", "'zones'", "unknown key"],
    "configs/unknown_zone_id.toml": ["good.csv", "'zone.zone_id'", "'Atlantis'"],
    "configs/utf16.toml": ["utf16.toml", "UTF-8"],
    "configs/zero_population.toml": ["zero_population.toml", "'zone.population'", "got 0"],
    # --- policies (zonesim run --policy F; zonesim compare --policies status_quo,F) -----------
    "policies/bad_choice.toml": ["bad_choice.toml", "'policy.allocation_rule'", "'random'"],
    "policies/nan_lever.toml": ["nan_lever.toml", "'policy.caseload_cap'", "nan"],
    "policies/negative_fte.toml": [
        "negative_fte.toml",
        "'policy.case_manager_fte_per_100k'",
        "-3.0",
    ],
    "policies/string_bool.toml": ["string_bool.toml", "'policy.information_point'", "'yes'"],
    "policies/unknown_lever.toml": ["unknown_lever.toml", "'policy.caseload_capp'", "caseload_cap"],
    # --- experiments (zonesim compare F --out DIR) --------------------------------------------
    "experiments/absurd_replicates.toml": ["absurd_replicates.toml", "'replicates'", "1000000000"],
    "experiments/bad_config_file.toml": ["negative_population.toml", "'zone.population'", "-5"],
    "experiments/bad_override.toml": ["<override>", "'zone.population'", "'abc'"],
    "experiments/baseline_not_in_policies.toml": [
        "baseline_not_in_policies.toml",
        "'baseline'",
        "'status_quo'",
    ],
    "experiments/csv_zone_over_a_million.toml": [
        "zone_over_a_million.csv",
        "'zone.zone_id'",
        "1,500,000",
    ],
    "experiments/duplicate_policies.toml": ["duplicate_policies.toml", "'policies'", "status_quo"],
    "experiments/empty_policies.toml": ["empty_policies.toml", "'policies'", "[]"],
    "experiments/inf_years.toml": ["inf_years.toml", "'years'", "inf"],
    "experiments/missing_config.toml": ["no_such_zone.toml", "not found"],
    "experiments/nan_years.toml": ["nan_years.toml", "'years'", "nan"],
    "experiments/negative_replicates.toml": ["negative_replicates.toml", "'replicates'", "-3"],
    "experiments/negative_seed.toml": ["negative_seed.toml", "'seed'", "-1"],
    "experiments/not_a_table.toml": ["not_a_table.toml", "'replicates'", "[2]"],
    "experiments/one_replicate.toml": ["one_replicate.toml", "'replicates'", "got 1"],
    "experiments/over_a_million.toml": ["over_a_million.toml", "'population'", "2000000"],
    "experiments/override_without_equals.toml": ["<override>", "'zone.population'", "key=value"],
    "experiments/path_in_name.toml": ["path_in_name.toml", "'name'", "'../../escape'"],
    "experiments/unknown_key.toml": ["unknown_key.toml", "'replicats'", "replicates"],
    "experiments/unknown_policy.toml": ["unknown_policy.toml", "'policies'", "'no_such_policy'"],
    "experiments/unknown_scenario.toml": ["unknown_scenario.toml", "'scenario'", "'apocalypse'"],
    "experiments/wrong_type.toml": ["wrong_type.toml", "'replicates'", "'eight'"],
    "experiments/zero_population.toml": ["zero_population.toml", "'population'", "got 0"],
    "experiments/zero_workers.toml": ["zero_workers.toml", "'workers'", "got 0"],
    "experiments/zero_years.toml": ["zero_years.toml", "'years'", "got 0"],
    # --- sweep studies (zonesim sweep F --out DIR) --------------------------------------------
    "studies/absurd_samples.toml": ["absurd_samples.toml", "'design.n'", "1000000000000"],
    "studies/bounds_outside_range.toml": [
        "bounds_outside_range.toml",
        "utility_in_hospital",
        "[0.5, 1.5]",
    ],
    "studies/design_not_a_table.toml": ["design_not_a_table.toml", "'design'", "got 5"],
    "studies/inf_years.toml": ["inf_years.toml", "'years'", "inf"],
    "studies/invalid_toml.toml": ["invalid_toml.toml", "not valid TOML"],
    "studies/nan_bound.toml": ["nan_bound.toml", "gp_fte_per_100k", "nan"],
    "studies/over_a_million.toml": ["over_a_million.toml", "'population'", "5000000"],
    "studies/reversed_bounds.toml": ["reversed_bounds.toml", "gp_fte_per_100k", "[80.0, 60.0]"],
    "studies/unknown_executor.toml": ["unknown_executor.toml", "'executor.kind'", "'quantum'"],
    "studies/unknown_key.toml": ["unknown_key.toml", "'replicats'", "replicates"],
    "studies/unknown_lever.toml": ["unknown_lever.toml", "policy.no_such_lever", "unknown"],
    "studies/unknown_method.toml": ["unknown_method.toml", "'design.method'", "'magic'"],
    "studies/unknown_parameter.toml": ["unknown_parameter.toml", "gatekeeper.gp_fte'", "unknown"],
    "studies/unknown_policy.toml": ["unknown_policy.toml", "'policies'", "'nope'"],
    "studies/zero_samples.toml": ["zero_samples.toml", "'design.n'", "got 0"],
    # --- municipality tables (zonesim compare -o zone.municipalities_csv=F; zonesim zones -m F)
    "municipalities/all_zero.csv": ["all_zero.csv", "'zone.zone_id'", "no inhabitants"],
    "municipalities/binary.csv": ["binary.csv", "utf-8", "0xff"],
    "municipalities/blank_lines.csv": ["blank_lines.csv", "empty file"],
    "municipalities/duplicate_ids.csv": ["duplicate_ids.csv", "row 3: id", "'11001'"],
    "municipalities/empty.csv": ["empty.csv", "empty file"],
    "municipalities/empty_id.csv": ["empty_id.csv", "row 2: id", "''"],
    "municipalities/empty_population.csv": ["empty_population.csv", "row 2: population", "''"],
    "municipalities/formula.csv": ["formula.csv", "row 2: population", "'=1+1'"],
    "municipalities/fractional_population.csv": [
        "fractional_population.csv",
        "row 2: population",
        "'40.5'",
    ],
    "municipalities/header_only.csv": ["header_only.csv", "no data rows"],
    "municipalities/huge_population.csv": [
        "huge_population.csv",
        "row 2: population",
        "'99999999999999999999999'",
    ],
    "municipalities/inf_population.csv": ["inf_population.csv", "row 2: population", "'inf'"],
    "municipalities/latin1.csv": ["latin1.csv", "utf-8", "0xe8", "row 2"],
    "municipalities/missing_id_column.csv": ["missing_id_column.csv", "'id'", "missing column"],
    "municipalities/missing_population_column.csv": [
        "missing_population_column.csv",
        "'population'",
        "people",
    ],
    "municipalities/only_delimiters.csv": ["only_delimiters.csv", "no header row"],
    "municipalities/nan_population.csv": ["nan_population.csv", "row 2: population", "'nan'"],
    "municipalities/negative_population.csv": [
        "negative_population.csv",
        "row 2: population",
        "'-40'",
    ],
    "municipalities/ragged_row.csv": ["ragged_row.csv", "'row 2'", "extra"],
    "municipalities/text_in_population.csv": [
        "text_in_population.csv",
        "row 3: population",
        "'lots'",
    ],
    "municipalities/utf16.csv": ["utf16.csv", "utf-8", "0xff"],
    "municipalities/zone_over_a_million.csv": [
        "zone_over_a_million.csv",
        "'zone.zone_id'",
        "1,500,000 inhabitants",
    ],
}

# Tables `zonesim zones` accepts (it shows zonings, flagging odd ones); only a simulation of
# their zone is refused.
ZONES_ACCEPTS = {"municipalities/all_zero.csv", "municipalities/zone_over_a_million.csv"}

# Good inputs the corpus refers to (not cases themselves).
NOT_CASES = {"municipalities/good.csv"}


def _commands(rel: str, path: Path, out: Path) -> list[tuple]:
    """The command lines that read this corpus file (every one must refuse it)."""
    kind = rel.split("/")[0]
    if kind == "configs":
        return [
            ("run", "--config", path, "--years", "0.01"),
            (
                "compare",
                "--config",
                path,
                "--out",
                out,
                "-p",
                "status_quo,integrated",
                *QUICK_COMPARE,
            ),
        ]
    if kind == "policies":
        return [
            ("run", "--policy", path, "--years", "0.01", "-n", "2000"),
            (
                "compare",
                "--policies",
                f"status_quo,{path}",
                "--out",
                out,
                "-n",
                "2000",
                *QUICK_COMPARE,
            ),
        ]
    if kind == "experiments":
        return [("compare", path, "--out", out)]
    if kind == "studies":
        return [("sweep", path, "--out", out, "--executor", "sequential")]
    assert kind == "municipalities", rel
    cmds = [
        (
            "compare",
            "-o",
            f"zone.municipalities_csv={path}",
            "--out",
            out,
            "-p",
            "status_quo,integrated",
            *QUICK_COMPARE,
        )
    ]
    if rel not in ZONES_ACCEPTS:
        cmds.append(("zones", "-m", path))
    return cmds


def tree(folder: Path) -> dict[str, int]:
    """Every file and folder under ``folder`` with its size (folders: -1)."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size if p.is_file() else -1)
        for p in sorted(folder.rglob("*"))
    }


def test_every_corpus_file_has_a_case():
    files = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*") if p.is_file()}
    assert files - NOT_CASES == set(CASES), "add the expectation of each new corpus file"
    assert len(CASES) >= 90


@pytest.mark.parametrize("rel", sorted(CASES))
def test_bad_input_gives_one_line_exit_2_and_writes_nothing(zonesim_main, tmp_cwd, rel):
    path = CORPUS / rel
    out = tmp_cwd / "out"
    before = tree(tmp_cwd)
    for argv in _commands(rel, path, out):
        rc, stdout, stderr = zonesim_main(*argv)
        assert_one_line_error(rc, stderr, *CASES[rel])
        assert stdout == "", f"{argv[0]}: {stdout!r}"
        assert not out.exists(), f"{argv[0]} created its --out folder"
        assert tree(tmp_cwd) == before, f"{argv[0]} left files behind"


# --- command-line arguments -------------------------------------------------------------------

BAD_ARGUMENTS = {
    # name: (argv, what the one-line message must contain)
    "run_years_nan": (("run", "--years", "nan"), ["'--years'", "nan"]),
    "run_years_inf": (("run", "--years", "inf"), ["'--years'", "inf"]),
    "run_years_negative": (("run", "--years", "-1"), ["'--years'", "-1"]),
    "run_years_text": (("run", "--years", "ten"), ["--years", "'ten'"]),
    "run_seed_negative": (("run", "--seed", "-3"), ["'--seed'", "-3"]),
    "run_population_zero": (("run", "-n", "0"), ["'zone.population'", "got 0"]),
    "run_population_huge": (("run", "-n", "5000000"), ["'zone.population'", "5000000"]),
    "run_population_text": (("run", "-n", "lots"), ["--population", "'lots'"]),
    "run_unknown_policy": (("run", "--policy", "anarchy"), ["'policy'", "'anarchy'"]),
    "run_unknown_scenario": (("run", "--scenario", "doom"), ["'scenario'", "'doom'"]),
    "run_bad_format": (("run", "--format", "xml"), ["--format", "'xml'"]),
    "run_unknown_option": (("run", "--frobnicate"), ["--frobnicate"]),
    "run_override_nan": (("run", "-o", "scenario.years=nan"), ["'scenario.years'", "nan"]),
    "compare_one_replicate": (("compare", "-r", "1"), ["'--replicates'", "got 1"]),
    "compare_workers_zero": (("compare", "-w", "0"), ["'--workers'", "got 0"]),
    "compare_years_nan": (("compare", "-y", "nan"), ["'--years'", "nan"]),
    "compare_warmup_negative": (("compare", "--warmup-days", "-5"), ["'--warmup-days'", "-5"]),
    "compare_unknown_policy": (("compare", "-p", "status_quo,nope"), ["'policy'", "'nope'"]),
    "compare_empty_policies": (("compare", "-p", ""), ["'--policies'"]),
    "compare_baseline_not_compared": (
        ("compare", "-p", "status_quo,integrated", "-b", "task_shifting"),
        ["'--baseline'", "'task_shifting'"],
    ),
    "compare_name_with_path": (("compare", "--name", "../up"), ["'--name'", "'../up'"]),
    "compare_missing_experiment": (("compare", "nowhere.toml"), ["nowhere.toml", "not found"]),
    "sweep_missing_study": (("sweep", "nowhere.toml"), ["nowhere.toml", "not found"]),
    "zones_min_zero": (("zones", "--min", "0"), ["min", "got 0"]),
    "zones_max_below_min": (("zones", "--min", "100", "--max", "10"), ["max", "10"]),
    "zones_missing_csv": (("zones", "-m", "nowhere.csv"), ["nowhere.csv", "not found"]),
    "no_command": ((), ["required"]),
    "unknown_command": (("simulate",), ["'simulate'"]),
}


@pytest.mark.parametrize("name", sorted(BAD_ARGUMENTS))
def test_bad_argument_gives_one_line_exit_2_and_writes_nothing(zonesim_main, tmp_cwd, name):
    argv, parts = BAD_ARGUMENTS[name]
    before = tree(tmp_cwd)
    rc, stdout, stderr = zonesim_main(*argv)
    assert_one_line_error(rc, stderr, *parts)
    assert stdout == ""
    assert tree(tmp_cwd) == before


def test_out_that_is_a_file_is_refused_and_kept(zonesim_main, tmp_cwd):
    out = tmp_cwd / "results.txt"
    out.write_text("mine\n", encoding="utf-8")
    rc, _, err = zonesim_main("compare", "--out", out, "-n", "2000", *QUICK_COMPARE)
    assert_one_line_error(rc, err, "'--out'", "results.txt")
    assert out.read_text(encoding="utf-8") == "mine\n"


# --- the same through a real interpreter ------------------------------------------------------


@pytest.mark.parametrize(
    "rel",
    [
        "configs/csv_zone_over_a_million.toml",
        "experiments/unknown_policy.toml",
        "studies/nan_bound.toml",
        "municipalities/utf16.csv",
    ],
)
def test_bad_input_in_a_subprocess(zonesim_subprocess, tmp_path, rel):
    path = CORPUS / rel
    out = tmp_path / "out"
    before = tree(tmp_path)
    argv = _commands(rel, path, out)[-1]
    proc = zonesim_subprocess(*argv)
    assert_one_line_error(proc.returncode, proc.stderr, *CASES[rel])
    assert proc.stdout == ""
    assert tree(tmp_path) == before
