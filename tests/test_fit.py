"""``zonesim calibrate --fit`` (zonesim.fit): a fit recovers a parameter it is given, resumes
without redoing trials, and writes ranges that the studies' PSA reads."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import optuna  # the fit extra, installed by scripts/test.sh
import pytest

from zonesim.calibration import Target
from zonesim.cli import main
from zonesim.config import load_config
from zonesim.errors import ZonesimInputError
from zonesim.fit import evaluate, fit, fitted_values, load_spec, read_fitted
from zonesim.runs.psa import draw_parameters

KEY = "parameters.care.propensity_shape"
TRUTH = 1.5
BOUNDS = (0.5, 4.0)
TINY = dict(years=1.0, warmup_days=30, population=1500)


def _spec_file(tmp_path, trials=12, extra=""):
    p = tmp_path / "tiny_fit.toml"
    p.write_text(
        f"""
[fit]
trials = {trials}
startup_trials = 5
seeds = [1, 2]
confirm_seeds = [7]
years = {TINY["years"]}
warmup_days = {TINY["warmup_days"]}
population = {TINY["population"]}
sampler_seed = 3

[parameters]
"{KEY}" = [{BOUNDS[0]}, {BOUNDS[1]}]
{extra}
"""
    )
    return p


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    """A fit of the GP-care propensity's shape to the any-contact share it produced itself."""
    tmp = tmp_path_factory.mktemp("fit")
    base = load_config()
    sims = [evaluate(base, {KEY: TRUTH}, s, **_run_kw()) for s in (1, 2)]
    target = float(np.mean([r["gp_contact_any_share"] for r in sims]))
    spec = replace(
        load_spec(_spec_file(tmp)),
        targets=(Target("gp_contact_any_share", target, 0.004, "synthetic: the model at 1.5"),),
    )
    res = fit(spec, out=tmp / "out", executor="sequential")
    return spec, tmp / "out", res


def _run_kw():
    return {
        "years": TINY["years"],
        "warmup_days": TINY["warmup_days"],
        "population": TINY["population"],
    }


def test_a_tiny_fit_recovers_a_known_parameter(known):
    spec, _, res = known
    # the any-contact share rises with the shape by ~0.05 per unit near 1.5: the fit lands within
    # a seventh of the search interval of the value that made the target
    assert abs(res.best[KEY] - TRUTH) < 0.5, res.best
    assert res.loss < 1.0
    assert len(res.trials) == spec.trials
    # the plausible range holds the truth and is narrower than the search interval
    lo, hi = res.ranges[KEY]
    assert lo <= TRUTH <= hi
    assert hi - lo < BOUNDS[1] - BOUNDS[0]


def test_fitted_json_loads_as_psa_ranges(known):
    _, out, res = known
    data = json.loads((out / "fitted.json").read_text())
    entry = data["parameters"][KEY]
    assert entry["dist"] == "uniform" and entry["value"] == pytest.approx(res.best[KEY])
    psa = read_fitted(out / "fitted.json", assumptions=False)
    assert psa.enabled and [u.key for u in psa.uncertain()] == [KEY]
    lo, hi = entry["bounds"]
    draws = [draw_parameters(psa, 2020, r)[KEY] for r in range(20)]
    assert all(lo <= d <= hi for d in draws) and len(set(draws)) == 20
    assert fitted_values(out) == {KEY: pytest.approx(res.best[KEY])}
    # hold-outs are reported apart from the fitting targets, from the confirmation seeds
    kinds = set(res.targets["kind"])
    assert kinds == {"input", "fit", "holdout"}
    assert (res.targets["kind"] == "holdout").sum() >= 8


def test_a_rerun_resumes_without_redoing_trials(tmp_path):
    spec = load_spec(_spec_file(tmp_path, trials=3))
    out = tmp_path / "out"
    first = fit(spec, out=out, executor="sequential")
    assert first.evaluated == 3 * 2
    params = first.trials.set_index("trial")[KEY].to_dict()
    # a time limit stops asking for trials; what is there is written, a rerun goes on
    stopped = fit(replace(spec, trials=5), out=out, executor="sequential", max_minutes=1e-9)
    assert stopped.evaluated == 0 and len(stopped.trials) == 3
    again = fit(replace(spec, trials=5), out=out, executor="sequential")
    assert again.evaluated == 2 * 2  # only the two missing trials ran
    assert again.trials.set_index("trial")[KEY].to_dict().items() >= params.items()
    # a trial cut off by a kill (asked, never told) runs again, with its own values
    from zonesim.fit import STUDY_NAME, _storage

    study = optuna.load_study(study_name=STUDY_NAME, storage=_storage(out))
    cut = study.ask({KEY: optuna.distributions.FloatDistribution(*BOUNDS)})
    done = fit(replace(spec, trials=5), out=out, executor="sequential")
    assert done.evaluated == 0 and done.confirm_runs == 0  # 5 complete: nothing to do
    more = fit(replace(spec, trials=6), out=out, executor="sequential")
    assert more.evaluated == 2
    assert cut.params[KEY] in set(more.trials[KEY])


def test_bad_fit_files_stop_before_anything_runs(tmp_path, capsys):
    bad = _spec_file(tmp_path, extra='"parameters.workforce.strain_rise_per_dya" = [0.0, 0.1]')
    with pytest.raises(ZonesimInputError, match=r"strain_rise_per_dya.*did you mean"):
        load_spec(bad)
    out = tmp_path / "never"
    rc = main(["calibrate", "--fit", str(bad), "--out", str(out), "--executor", "sequential"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "strain_rise_per_dya" in err[0]
    assert not out.exists()
    wide = _spec_file(tmp_path, extra='"parameters.workforce.attrition_per_year" = [0.0, 2.0]')
    with pytest.raises(ZonesimInputError, match="valid range"):
        load_spec(wide)
    assert main(["calibrate", "--fit", str(_spec_file(tmp_path)), "--trials", "0"]) == 2


def test_a_folder_of_another_fit_is_refused(tmp_path, capsys):
    spec = load_spec(_spec_file(tmp_path, trials=1))
    out = tmp_path / "out"
    fit(spec, out=out, executor="sequential")
    other = _spec_file(
        tmp_path, trials=1, extra='"parameters.caregivers.burden_relief_per_day" = [0.002, 0.004]'
    )
    rc = main(["calibrate", "--fit", str(other), "--out", str(out), "--executor", "sequential"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and "another specification" in err[-1]


def test_the_default_fit_file_names_existing_parameters():
    spec = load_spec()  # configs/fit/default.toml: every name checked against the schema
    assert len(spec.parameters) >= 10
    assert {t.kind for t in spec.fitting_targets()} == {"fit"}
    assert not set(spec.seeds) & set(spec.confirm_seeds)


def test_the_validation_page_sections_read_the_shipped_fit_and_ranking_results():
    """docs/validation.md's fit, hold-out and ranking sections come from saved files
    (docs/data): the lead's regeneration includes them without rerunning the fit."""
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "scripts"))
    import gen_validation_md as g

    fitted = json.loads((root / "docs/data/fit/fitted.json").read_text())
    psa = read_fitted(root / "docs/data/fit/fitted.json")
    assert {u.key for u in psa.parameters} == set(fitted["parameters"])
    text = "\n".join(g.fit_sections(root / "docs" / "data"))
    assert "## Hold-out targets (the validation)" in text
    hold = [line for line in text.split("## Hold-out targets")[1].splitlines() if "| `" in line]
    assert len(hold) >= 8
    # every hold-out that misses is listed with its reason
    missed = [line.split("`")[1] for line in hold if "**no**" in line]
    for m in missed:
        assert f"**`{m}` missed**: " in text and "no reason recorded yet" not in text
    ranking = "\n".join(g.ranking_sections(root / "docs" / "data"))
    assert "Sobol" in ranking and "ranking_sensitivity.png" in ranking
    assert (root / "docs/img/ranking_sensitivity.png").is_file()


def test_a_fit_on_a_local_dask_cluster_evaluates_the_same_trials(tmp_path):
    """Distributable: the runs go through zonesim's executors; a run is a pure function of the
    values and the seed, so the same trials give the same losses in process and on Dask."""
    pytest.importorskip("distributed")
    spec = load_spec(_spec_file(tmp_path, trials=2))
    here = fit(spec, out=tmp_path / "seq", executor="sequential")
    there = fit(spec, out=tmp_path / "dask", executor="local", workers=2)
    # trial 0 is the defaults in both; any trial with the same values has the same loss
    same = here.trials.merge(there.trials, on=KEY, suffixes=("_here", "_there"))
    assert len(same) >= 1 and 0 in set(same["trial_here"])
    assert np.allclose(same["loss_here"], same["loss_there"])


def test_a_fit_keeps_the_inputs_within_their_tolerance():
    """An input is kept, not fitted: within its tolerance it adds nothing to a trial's loss;
    outside it (a fitted assumption moved the caseload the cap was set from), it adds its
    squared distance beyond the tolerance and the trial is not plausible."""
    from zonesim.calibration import INPUT
    from zonesim.fit import trial_loss

    fit_t = Target("gp_contacts_per_capita", 5.1, 0.4, "test")
    cap = Target("caseload_per_cm_fte", 57.5, 17.5, "test", kind=INPUT)
    inside = {"gp_contacts_per_capita": (5.1, 0.0), "caseload_per_cm_fte": (50.0, 0.0)}
    outside = {"gp_contacts_per_capita": (5.1, 0.0), "caseload_per_cm_fte": (22.5, 0.0)}
    a = trial_loss([fit_t], inside, [cap])
    b = trial_loss([fit_t], outside, [cap])
    assert a["loss"] == 0.0 and a["plausible"]
    assert b["loss"] == pytest.approx(1.0) and not b["plausible"]  # 22.5 is one tolerance out
    assert trial_loss([fit_t], outside)["plausible"]  # without kept inputs: not checked
    # the default fit keeps every input of the calibration
    assert {t.metric for t in load_spec().kept_targets()} >= {"caseload_per_cm_fte"}


def test_the_defaults_are_the_shipped_fit():
    """The fitted assumptions' defaults are docs/data/fit's values (three significant figures,
    issue 15), and FITTED_DEFAULTS lists exactly those parameters: a new fit that is shipped
    without adopting it, or a default changed by hand, fails here."""
    from pathlib import Path

    from zonesim.config import FITTED_DEFAULTS
    from zonesim.runs.psa import as_overrides

    root = Path(__file__).resolve().parents[1]
    fitted = fitted_values(root / "docs" / "data" / "fit" / "fitted.json")
    assert set(fitted) == set(FITTED_DEFAULTS)
    cfg = load_config()
    for key, wanted in as_overrides(fitted, cfg).items():
        got = cfg
        for part in key.split("."):
            got = getattr(got, part)
        np.testing.assert_allclose(
            np.asarray(got, dtype=float), np.asarray(wanted, dtype=float), rtol=5e-3, err_msg=key
        )
        assert not np.allclose(
            np.asarray(got, dtype=float),
            np.asarray(
                [FITTED_DEFAULTS.get(f"{key}[{e}]", v) for e, v in enumerate(np.ravel(got))]
                if np.ndim(got)
                else FITTED_DEFAULTS[key],
                dtype=float,
            ),
        ), f"{key}: still the value before the fit"
