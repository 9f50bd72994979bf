"""Calibration: the default scenario against published figures, in three kinds (inputs, fitting
targets, hold-outs), each with its source."""

from __future__ import annotations

import json

import pytest

from zonesim.calibration import FIT, HOLDOUT, INPUT, TARGETS, calibrate, targets_of
from zonesim.config import ASSUMPTION, iter_parameters

# REVIEW item 14: these seven targets repeat a parameter's source. They must stay inputs (the
# specialist wait is an outcome of the waiting list since issue 16: a fitting target).
REPEATS_AN_INPUT = {
    "limited_health_literacy_share",
    "share_65plus",
    "gp_fte_per_100k",
    "mean_length_of_stay_days",
    "caseload_per_cm_fte",
    "chronic_share_15plus",
    "falls_65plus_share",
}


@pytest.fixture(scope="module")
def table():
    return calibrate(seed=2020)


def test_every_must_pass_target_within_tolerance(table):
    """Inputs must arrive and fitting targets must hold; hold-outs fall where they fall."""
    off = table[table["must_pass"] & ~table["within"]]
    assert off.empty, "\n" + off[["metric", "kind", "target", "tolerance", "simulated"]].to_string()


def test_every_missed_holdout_is_explained(table):
    """A hold-out outside its tolerance is reported with its reason (Target.miss), not hidden:
    a change that makes one miss must say why."""
    missed = table[(table["kind"] == HOLDOUT) & ~table["within"]]
    unexplained = missed[missed["miss"] == "no reason recorded yet"]
    assert unexplained.empty, "\n" + unexplained[["metric", "target", "simulated"]].to_string()


def test_the_kinds_are_honest():
    """The targets that repeat an input are inputs (never validation), every input names the
    parameter set from its source, every fitting target the parameters tuned to reach it,
    and no hold-out shares a source with a parameter it would then only echo."""
    kind = {t.metric: t.kind for t in TARGETS}
    assert {m for m in REPEATS_AN_INPUT if kind[m] != INPUT} == set()
    from dataclasses import fields

    from zonesim.config import PolicyConfig

    paths = {p for p, _, _ in iter_parameters()}
    paths |= {f"policy.{f.name}" for f in fields(PolicyConfig)}  # a lever's default
    for t in targets_of(INPUT) + targets_of(FIT):
        assert t.parameters, t.metric
        for p in t.parameters:
            assert p in paths or any(q.startswith(p + ".") for q in paths), (t.metric, p)
    for t in targets_of(HOLDOUT):
        assert not t.parameters, t.metric
        used = {f.metadata.get("source") for _, f, _ in iter_parameters()}
        if t.source in used:
            # A hold-out may share a source only when that figure is not the parameter's
            # (the Nivel referral count, where the parameter uses the share of contacts).
            assert "weak evidence" in t.note, t.metric
    assert len(targets_of(HOLDOUT)) >= 8


def test_inputs_are_never_counted_as_validation(table):
    from zonesim.cli.calibrate import verdict

    line = verdict(table)
    n_hold = len(targets_of(HOLDOUT))
    n_ok = int(table[table.kind == HOLDOUT].within.sum())
    assert f"hold-out targets (validation): {n_ok} of {n_hold}" in line
    assert "inputs:" in line and "(not validation)" in line
    # The table lists the kinds in order: inputs, fitting targets, hold-outs.
    order = {INPUT: 0, FIT: 1, HOLDOUT: 2}
    assert list(table["kind"].map(order)) == sorted(table["kind"].map(order))


def test_targets_are_sourced_and_distinct():
    assert len({t.metric for t in TARGETS}) == len(TARGETS)
    for t in TARGETS:
        assert t.source and t.source != ASSUMPTION
        # A two-sided target needs room; a published bound (>=, <=) is the bound itself.
        assert t.tolerance > 0 or t.sense != "="


def test_calibration_holds_for_another_seed():
    """Not a lucky seed: the must-pass targets hold under a second seed too."""
    other = calibrate(seed=7)
    off = other[other["must_pass"] & ~other["within"]]
    assert off.empty, off.to_string()


def test_assumptions_are_flagged():
    """Every parameter either cites a source or says it is an assumption."""
    sources = [f.metadata.get("source") for _, f, _ in iter_parameters()]
    assert all(sources)
    assert sources.count(ASSUMPTION) > 0


def test_cli_calibrate_json(capsys):
    from zonesim.cli import main

    assert main(["calibrate", "--format", "json", "--population", "30000"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["metric"] for r in rows} == {t.metric for t in TARGETS}
    assert all(
        {"kind", "target", "sense", "simulated", "within", "must_pass", "source", "miss"} <= set(r)
        for r in rows
    )


def test_cli_calibrate_prints_the_kinds_apart(capsys):
    from zonesim.cli import main

    assert main(["calibrate", "--format", "markdown", "--population", "30000"]) == 0
    out, err = capsys.readouterr()
    heads = [line for line in out.splitlines() if line.startswith("### ")]
    assert [h.split()[1] for h in heads] == ["Inputs", "Fitting", "Hold-out"]
    assert "hold-out targets (validation):" in err
