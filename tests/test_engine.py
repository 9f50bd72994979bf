"""The numba core: invariants, reproducibility, common random numbers, the stored baseline.

These tests drive the kernels directly (population -> compile_params -> simulate) so that they
test the engine and nothing around it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine_helpers import build, digest, run
from zonesim.core import state as S
from zonesim.core.day import simulate
from zonesim.metrics import acc_window, compute_scorecard
from zonesim.policies import preset_names

HERE = Path(__file__).parent
BASELINE = HERE / "data" / "engine_baseline.json"


def check_invariants(state, initial_alive):
    """Everything the engine promises about a state, whatever the configuration."""
    pat, prov, prac, cg = state.pat, state.prov, state.prac, state.cg
    for z in range(state.n_zones):
        zr = state.zone[z]
        acc = state.acc[z]
        lo, hi = int(zr["first_patient"]), int(zr["next_free"])
        living = pat.situation[lo:hi] < S.DECEASED
        n_alive = int(living.sum())
        # Nobody is lost or created except by demography (deaths, emigrants and entrants).
        expected = initial_alive[z] + acc["entrants"] - acc["deaths"].sum() - acc["emigrants"]
        assert n_alive == expected, (z, n_alive, expected)
        assert n_alive == zr["alive"]
        assert zr["next_free"] <= zr["end_patient"]
        assert (pat.situation[hi : int(zr["end_patient"])] == S.EMPTY).all()
        # Utilities within [0, 1]; the dead have none.
        u = pat.utility[lo:hi]
        assert ((u >= 0) & (u <= 1)).all()
        assert (u[~living] == 0).all()
        # Queues and lists never negative nor beyond capacity.
        assert 0 <= zr["cm_queue_len"] <= state.cmq_pid.shape[1]
        assert 0 <= zr["episode_count"] <= state.episodes.shape[1]
        assert (zr["capacity_hours"] >= 0).all() and (zr["demand_hours"] >= 0).all()
        # No list refers to a deceased patient (eager clean-up at death).
        ep = state.episodes[z, : int(zr["episode_count"])]
        assert (pat.situation[ep] < S.DECEASED).all()
        cq = state.cmq_pid[z, : int(zr["cm_queue_len"])]
        assert (pat.situation[cq] < S.DECEASED).all()
        # Accumulators (counts, hours, costs) are never negative.
        for name in S.ACC_DTYPE.names:
            assert (np.asarray(acc[name]) >= 0).all(), name
    # Practice queues: lengths within capacity; a waiting flag means exactly one queue entry.
    assert ((prac.queue_len >= 0) & (prac.queue_len <= prac.queue_cap)).all()
    in_queue = np.zeros(pat.situation.shape[0], dtype=np.int64)
    for k in range(prac.kind.shape[0]):
        cap = int(prac.queue_cap[k])
        for t in range(int(prac.queue_len[k])):
            pos = int(prac.queue_start[k]) + ((int(prac.queue_head[k]) + t) & (cap - 1))
            i = int(state.queue_pid[pos])
            if i >= 0:
                in_queue[i] += 1
    waiting = (pat.flags & S.F_GP_WAITING) != 0
    assert (in_queue[waiting] == 1).all()
    assert (in_queue[~waiting] == 0).all()
    # Hospital and specialist lists: sizes within capacity, the living only.
    assert 0 <= state.hosp_n[0] <= state.hosp_pid.shape[0]
    inhosp = state.hosp_pid[: state.hosp_n[0]]
    assert (pat.situation[inhosp] == S.IN_HOSPITAL).all()
    assert (pat.situation == S.IN_HOSPITAL).sum() == state.hosp_n[0]
    assert 0 <= state.spec_n[0] <= state.spec_due.shape[0]
    # Case managers: caseload = clients holding them, within the cap.
    cms = np.flatnonzero(prov.discipline == S.CASE_MANAGER)
    clients = np.bincount(
        pat.case_manager[pat.case_manager >= 0], minlength=prov.discipline.shape[0]
    )
    assert (prov.caseload >= 0).all()
    assert (prov.caseload[cms] == clients[cms]).all()
    assert (clients[prov.discipline != S.CASE_MANAGER] == 0).all()
    # No client is lost: each client of a case manager is in the episode list (so it is handed
    # back one day) with a hand-back day; each request waiting for one is in its zone's queue,
    # exactly once, and the queue holds only those.
    held = pat.case_manager >= 0
    assert (pat.flags[held] & S.F_EPISODE_LISTED).all()
    assert (pat.cm_until[held] != S.NEVER).all()
    queued = np.zeros(pat.situation.shape[0], dtype=np.int64)
    for z in range(state.n_zones):
        np.add.at(queued, state.cmq_pid[z, : int(state.zone[z]["cm_queue_len"])], 1)
    cm_waiting = (pat.flags & S.F_CM_WAITING) != 0
    assert (queued[cm_waiting] == 1).all()
    assert (queued[~cm_waiting] == 0).all()
    assert (pat.case_manager[cm_waiting] < 0).all()
    # Strain and burden stay in [0, 1]; no negative capacity.
    assert ((prov.strain >= 0) & (prov.strain <= 1)).all()
    assert (prov.fte >= 0).all() and (prov.hours_per_week >= 0).all()
    active_cg = cg.state != S.CG_DECEASED
    assert ((cg.burden[active_cg] >= 0) & (cg.burden[active_cg] <= 1)).all()
    linked = cg.patient[active_cg]
    assert (pat.caregiver[linked] == np.flatnonzero(active_cg)).all()


def _alive(state):
    return [int(state.zone[z]["alive"]) for z in range(state.n_zones)]


def test_invariants_default_policy_one_year():
    cfg, pol, state, layout, prm, tables = build(population=5000, seed=3)
    alive0 = _alive(state)
    for _ in range(4):  # in stretches, as the model does
        simulate(state, prm, tables, 3, 91)
        check_invariants(state, alive0)
    assert state.acc[0]["deaths"].sum() > 0 and state.acc[0]["entrants"] > 0


def test_caseload_cap_holds_when_case_managers_are_scarce():
    cfg, pol, state, layout, prm, tables = build(
        population=8000,
        seed=5,
        policy_overrides={"case_manager_fte_per_100k": 12, "caseload_cap": 3},
    )
    alive0 = _alive(state)
    simulate(state, prm, tables, 5, 200)
    check_invariants(state, alive0)
    cms = state.prov.discipline == S.CASE_MANAGER
    cap = np.floor(3 * state.prov.fte[cms] + 0.5)
    assert (state.prov.caseload[cms] <= cap).all()
    assert state.zone[0]["cm_queue_len"] > 0  # the cap bites: people wait


policy_names = st.sampled_from(preset_names())


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31),
    population=st.integers(400, 4000),
    policy=policy_names,
    gp_fte=st.floats(5, 150),
    cm_fte=st.floats(0, 30),
    cap=st.integers(1, 80),
    nurse_share=st.floats(0, 1),
    point=st.booleans(),
    gatekeeping=st.sampled_from(["direct_access", "strict"]),
    rule=st.sampled_from(["none", "fcfs", "highest_need", "equity_weighted"]),
    attached=st.sampled_from(["zone_pool", "practice_attached"]),
)
def test_invariants_hold_for_random_configurations(
    seed, population, policy, gp_fte, cm_fte, cap, nurse_share, point, gatekeeping, rule, attached
):
    cfg, pol, state, layout, prm, tables = build(
        population=population,
        seed=seed,
        policy=policy,
        overrides={"parameters.gatekeeper.gp_fte_per_100k": gp_fte},
        policy_overrides={
            "case_manager_fte_per_100k": cm_fte,
            "caseload_cap": cap,
            "nurse_followup_share": nurse_share,
            "information_point": point,
            "gatekeeping": gatekeeping,
            "allocation_rule": rule,
            "cm_organisation": attached,
        },
    )
    alive0 = _alive(state)
    simulate(state, prm, tables, seed, 75)
    check_invariants(state, alive0)
    w = acc_window(state.acc, np.zeros_like(state.acc))
    card = compute_scorecard(w, state, cfg, [pol], [0], int(state.day[0]))
    for k, v in card["cost"].items():
        assert v >= 0, k


def test_same_seed_gives_identical_bits_and_other_seed_differs():
    a = digest(run(population=3000, seed=21, days=100))
    b = digest(run(population=3000, seed=21, days=100))
    c = digest(run(population=3000, seed=22, days=100))
    assert a == b
    assert a != c


def test_digest_ignores_record_layout_but_not_values():
    """The stored baselines' digest hashes a record field by field, by name: reordering the
    fields of the accumulator or zone record (a field moved beside its process) leaves it
    unchanged, while any changed number changes it."""
    state = run(population=400, seed=5, days=10)

    def reordered(rec):
        dt = np.dtype([(n, *rec.dtype.fields[n][:1]) for n in reversed(rec.dtype.names)])
        out = np.zeros(rec.shape, dt)
        for n in rec.dtype.names:
            out[n] = rec[n]
        return out

    moved = state._replace(acc=reordered(state.acc), zone=reordered(state.zone))
    assert moved.acc.dtype.names != state.acc.dtype.names
    assert digest(moved) == digest(state)
    moved.acc["falls"][0] += 1.0
    assert digest(moved) != digest(state)


def test_stretches_do_not_change_results():
    """Running 100 days at once or in uneven pieces gives the same bits."""
    cfg, pol, s1, layout, prm, tables = build(population=3000, seed=8)
    simulate(s1, prm, tables, 8, 100)
    cfg, pol, s2, layout, prm2, tables2 = build(population=3000, seed=8)
    for n in (1, 30, 2, 67):
        simulate(s2, prm2, tables2, 8, n)
    assert digest(s1) == digest(s2)


def test_common_random_numbers_fall_days():
    """Two policies differing only in case-manager FTE: every patient alive in both falls on
    the same days."""
    _, _, sa, _, pa, ta = build(
        population=6000, seed=4, policy_overrides={"case_manager_fte_per_100k": 1.0}
    )
    _, _, sb, _, pb, tb = build(
        population=6000, seed=4, policy_overrides={"case_manager_fte_per_100k": 15.0}
    )
    assert (sa.pat.birth_day == sb.pat.birth_day).all()
    falls = 0
    differs_elsewhere = False
    for _ in range(200):
        simulate(sa, pa, ta, 4, 1)
        simulate(sb, pb, tb, 4, 1)
        both = (sa.pat.situation < S.DECEASED) & (sb.pat.situation < S.DECEASED)
        # The same person in the slot (a slot may be reused after a death).
        both &= sa.pat.birth_day == sb.pat.birth_day
        assert (sa.pat.last_fall_day[both] == sb.pat.last_fall_day[both]).all()
        day = int(sa.day[0]) - 1
        falls += int((sa.pat.last_fall_day[both] == day).sum())
        differs_elsewhere |= bool((sa.pat.case_manager != sb.pat.case_manager).any())
    assert falls > 50  # the test saw many falls
    assert differs_elsewhere  # and the policies really differed


def _digest_in_subprocess(env_extra: dict) -> str:
    code = (
        f"import sys; sys.path.insert(0, {str(HERE)!r})\n"
        "from engine_helpers import run, digest\n"
        "print(digest(run(population=400, seed=9, days=20)))\n"
    )
    env = dict(os.environ, **env_extra)
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def test_thread_count_does_not_change_results():
    one = _digest_in_subprocess({"NUMBA_NUM_THREADS": "1"})
    two = _digest_in_subprocess({"NUMBA_NUM_THREADS": "2"})
    assert one == two


@pytest.mark.slow
def test_kernels_without_jit_match_compiled():
    """The kernels run as plain Python (NUMBA_DISABLE_JIT=1, for coverage of their bodies) and
    give the same bits as the compiled engine."""
    compiled = digest(run(population=400, seed=9, days=20))
    plain = _digest_in_subprocess(
        {"NUMBA_DISABLE_JIT": "1", "PYTHONWARNINGS": "ignore::RuntimeWarning"}
    )
    assert plain == compiled


def baseline_case():
    state = run(population=20000, seed=11, days=150)
    w = acc_window(state.acc, np.zeros_like(state.acc))
    return state, w


def test_stored_baseline_unchanged():
    """Silent changes in results are caught: a 20,000-inhabitant zone, 150 days, seed 11, must
    reproduce the stored digest and headline counts. After an intended model change, regenerate
    with `python tests/make_engine_baseline.py` and say why in the commit."""
    stored = json.loads(BASELINE.read_text())
    state, w = baseline_case()
    counts = {k: float(np.sum(w[k])) for k in stored["counts"]}
    assert counts == stored["counts"]
    assert digest(state) == stored["digest"]
