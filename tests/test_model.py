"""ZoneModel / Region: Mesa time and events over the kernel, reproducibility, snapshots, CLI."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import numpy as np
import pytest

import zonesim
from zonesim import Patient, Region, ZoneModel, ZonesimInputError
from zonesim.core import state as S
from zonesim.geography import Municipality, Zone
from zonesim.model import month_end_day

POP = 5000
SECTIONS = {"population_health", "experience", "cost", "workforce", "equity", "activity"}


def state_differences(a: S.State, b: S.State) -> list[str]:
    """Names of the state arrays that differ between two states."""
    out = []
    for name, x, y in zip(S.State._fields, a, b, strict=True):
        if isinstance(x, tuple):
            out += [
                f"{name}.{f}"
                for f, u, v in zip(x._fields, x, y, strict=True)
                if not np.array_equal(u, v, equal_nan=u.dtype.kind == "f")
            ]
        elif x.dtype.names:
            out += [f"{name}.{f}" for f in x.dtype.names if not np.array_equal(x[f], y[f])]
        elif not np.array_equal(x, y):
            out.append(name)
    return out


def test_same_rng_gives_identical_state_after_60_days():
    m1 = ZoneModel(population=POP, rng=42)
    m2 = ZoneModel(population=POP, rng=42)
    m1.run_for(60)
    m2.run_for(60)
    assert m1.seed == m2.seed == 42
    assert state_differences(m1.state, m2.state) == []
    # ...and the comparison can fail: another seed gives another run
    m3 = ZoneModel(population=POP, rng=43)
    m3.run_for(60)
    assert state_differences(m1.state, m3.state) != []


def test_stretch_boundaries_do_not_change_the_run():
    """Events split the kernel's stretches; the result must not depend on where."""
    m1 = ZoneModel(population=POP, rng=8)
    m1.run_for(100)
    m2 = ZoneModel(population=POP, rng=8)
    m2.run_for(17)
    for _ in range(3):
        m2.step()
    m2.run_until(55.5)
    m2.run_until(100)
    assert m2.time == 100
    assert state_differences(m1.state, m2.state) == []


def test_no_seed_draws_one_and_records_it():
    m = ZoneModel(population=POP)
    assert isinstance(m.seed, int) and m.seed >= 0
    m.run_for(10)
    again = ZoneModel(population=POP, rng=m.seed)
    again.run_for(10)
    assert state_differences(m.state, again.state) == []


def test_time_is_days_and_an_event_sees_the_kernel_at_its_day():
    m = ZoneModel(population=POP, rng=9)
    assert m.time == 0 and m.day == m.day0
    seen = {}

    def at_30():
        seen["time"] = m.time
        seen["day"] = m.day
        seen["state"] = m.state.copy()
        seen["patients"] = len(m.agents_by_type[Patient])

    m.schedule_event(at_30, at=30)
    m.run_for(45)
    assert m.time == 45 and m.day == m.day0 + 45
    assert seen["time"] == 30 and seen["day"] == m.day0 + 30
    # the state the event saw is exactly the state after 30 days
    ref = ZoneModel(population=POP, rng=9)
    ref.run_for(30)
    assert state_differences(seen["state"], ref.state) == []
    assert seen["patients"] == len(ref.agents_by_type[Patient])
    m.step()
    assert m.time == 46 and m.day == m.day0 + 46 and m.steps == 46


def test_recurring_events_run_between_kernel_stretches():
    m = ZoneModel(population=POP, rng=4)
    days = []

    def weekly():
        days.append(m.day - m.day0)

    m.schedule_recurring(weekly, zonesim.model.mesa.time.Schedule(interval=7, start=7))
    m.run_for(30)
    assert days == [7, 14, 21, 28]


def test_month_snapshots_of_the_accumulators():
    m = ZoneModel(population=POP, rng=6)
    assert m.acc_start.dtype == S.ACC_DTYPE
    m.run_years(1)
    assert m.time == 365
    days = [d for d, _ in m.snapshots]
    assert days == [m.day0 + month_end_day(k) for k in range(1, 13)]
    assert days[-1] == m.day0 + 365
    # copies, not views: they grow month by month and the last equals the current accumulators
    person_days = [float(acc["person_days"].sum()) for _, acc in m.snapshots]
    assert all(b > a for a, b in itertools.pairwise(person_days))
    assert state_differences_acc(m.snapshots[-1][1], m.state.acc) == []
    assert m.snapshots[0][1] is not m.state.acc
    assert float(m.acc_start["person_days"].sum()) < person_days[0]


def state_differences_acc(a: np.ndarray, b: np.ndarray) -> list[str]:
    return [f for f in a.dtype.names if not np.array_equal(a[f], b[f])]


def test_invalid_arguments_are_input_errors():
    with pytest.raises(ZonesimInputError, match="policy"):
        ZoneModel(population=POP, policy="no_such_policy")
    with pytest.raises(ZonesimInputError, match="rng"):
        ZoneModel(population=POP, rng=-1)
    with pytest.raises(ZonesimInputError, match="population"):
        ZoneModel(population=0)
    with pytest.raises(ZonesimInputError, match="scenario"):
        ZoneModel(population=POP, scenario="no_such_scenario")


def test_config_scenario_and_policy_arguments():
    cfg = zonesim.load_config()
    m = ZoneModel(cfg, scenario="care_paradox", policy="integrated", population=POP, rng=1)
    assert m.config.scenario.name == "care_paradox"
    assert m.config.zone.population == POP
    assert m.policy.name == "integrated" and m.policies == [m.policy]
    assert m.layout.n_patients_initial == pytest.approx(POP, rel=0.05)


def test_scorecard_and_timeseries_have_the_sections():
    m = ZoneModel(population=POP, rng=12)
    m.run_for(62)
    card = m.scorecard()
    assert SECTIONS <= set(card)
    assert all(isinstance(v, float) for sec in card.values() for v in sec.values())
    ts = m.timeseries()
    assert len(ts) >= 2


def two_zones() -> list[Zone]:
    return [
        Zone("North", (Municipality("1", "Aadorp", 2500), Municipality("2", "Beveren", 1500))),
        Zone("South", (Municipality("3", "Cuyk", 3000),)),
    ]


def test_region_of_two_zones_shares_one_state():
    r = Region(two_zones(), policy=["status_quo", "case_management_pool"], rng=3)
    assert r.n_zones == 2 and r.zone_names == ["North", "South"]
    assert [p.name for p in r.policies] == ["status_quo", "case_management_pool"]
    assert len(r.councils) == 2
    assert {c.zone for c in r.councils} == {"North", "South"}
    by_zone = r.agents_by_type[Patient].groupby("zone").count()
    assert by_zone == {
        "North": int(r.state.zone["alive"][0]),
        "South": int(r.state.zone["alive"][1]),
    }
    assert by_zone["North"] == pytest.approx(4000, rel=0.05)
    r.run_for(40)
    assert len(r.agents_by_type[Patient]) == int(r.state.zone["alive"].sum())
    north, south, whole = r.scorecard(zone=0), r.scorecard(zone="South"), r.scorecard()
    assert SECTIONS <= set(north) and SECTIONS <= set(south) and SECTIONS <= set(whole)
    with pytest.raises(ZonesimInputError):
        r.scorecard(zone=2)
    with pytest.raises(ZonesimInputError, match="one policy per zone"):
        Region(two_zones(), policy=["status_quo"], rng=3)


def test_import_zonesim_is_light():
    code = (
        "import sys, zonesim; heavy = [m for m in ('numba', 'mesa', 'pandas') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    assert set(zonesim.__all__) == set(zonesim._EXPORTS) | {"__version__"}


def test_cli_run_json(capsys):
    from zonesim.cli import main

    argv = ["run", "--population", str(POP), "--years", "0.2", "--seed", "1", "--format", "json"]
    rc = main([*argv, "--policy", "integrated"])
    captured = capsys.readouterr()
    assert rc == 0
    card = json.loads(captured.out)
    assert SECTIONS <= set(card)
    assert all(isinstance(v, (float, int)) or v is None for s in card.values() for v in s.values())
    assert rc == 0
    # the same seed prints the same scorecard
    assert main([*argv, "--policy", "integrated"]) == 0
    assert json.loads(capsys.readouterr().out) == card


def test_cli_run_warnings_are_single_lines(capsys):
    """Model warnings reach the user as single lines, not as Python warning tracebacks."""
    from zonesim.cli import main

    # A severe GP shortage overflows the practices' queues: the model warns.
    argv = [
        "run",
        "--population",
        str(POP),
        "--years",
        "0.3",
        "--seed",
        "1",
        "--format",
        "json",
        "-o",
        "parameters.gatekeeper.gp_fte_per_100k=8",
    ]
    assert main(argv) == 0
    warning_lines = capsys.readouterr().err.splitlines()
    assert warning_lines and all(ln.startswith("zonesim: warning: ") for ln in warning_lines)
    assert any("queue full" in ln for ln in warning_lines)


def test_cli_run_table_and_errors(capsys):
    from zonesim.cli import main

    rc = main(
        [
            "run",
            "-n",
            str(POP),
            "--years",
            "0.1",
            "--seed",
            "2",
            "-p",
            "task_shifting",
            "-o",
            "policy.caseload_cap=40",
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0
    assert "policy: task_shifting" in out and "seed: 2" in out
    for section in SECTIONS:
        assert section.replace("_", " ") in out
    assert main(["run", "-n", str(POP), "--policy", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope" in err
    assert main(["run", "-n", str(POP), "-o", "zone.populaton=3"]) == 2
    assert main(["run", "-n", str(POP), "--years", "0"]) == 2


def test_reset_measurement_restarts_the_window_and_its_months():
    m = ZoneModel(population=POP, rng=13)
    m.run_for(100)
    m.reset_measurement()
    assert m.measure_start_day == m.day0 + 100 and m.snapshots == []
    assert state_differences_acc(m.acc_start, m.state.acc) == []
    m.run_for(70)
    assert [d for d, _ in m.snapshots] == [m.day0 + 100 + month_end_day(k) for k in (1, 2)]
    assert float(m.acc_start["person_days"].sum()) < float(m.snapshots[0][1]["person_days"].sum())
