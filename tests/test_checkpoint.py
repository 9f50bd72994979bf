"""Checkpoints and branching: a model saved and loaded is the same model, and a policy branched
from a state in this process or from its saved file runs to the same numbers."""

from __future__ import annotations

import json
import warnings
import zipfile

import numpy as np
import pytest

from zonesim import ZoneModel, ZonesimInputError
from zonesim.checkpoint import read_metadata, state_arrays

POP = 3000


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def warmed(days: int = 60, policy: str = "status_quo", **kw) -> ZoneModel:
    model = ZoneModel(population=POP, rng=5, agents=False, years=1.5, policy=policy, **kw)
    model.run_for(days)
    return model


def assert_same_card(a: ZoneModel, b: ZoneModel) -> None:
    np.testing.assert_equal(a.scorecard(), b.scorecard())  # NaN equals NaN here


def assert_same_state(a: ZoneModel, b: ZoneModel) -> None:
    sa, sb = state_arrays(a.state), state_arrays(b.state)
    assert sa.keys() == sb.keys()
    differ = [k for k in sa if not np.array_equal(sa[k], sb[k])]
    assert differ == [], differ


def test_state_arrays_walks_every_array_of_the_state():
    model = ZoneModel(population=200, rng=1, agents=False)
    arrays = state_arrays(model.state)
    # every field of every part, by name: a part added to the state is saved without code here
    expected = 0
    for part in model.state:
        expected += len(part) if isinstance(part, tuple) else 1
    assert len(arrays) == expected
    assert "state/pat/need" in arrays and "state/acc" in arrays and "state/day" in arrays


def test_save_load_round_trip_keeps_every_array_and_the_provenance(tmp_path):
    model = warmed(policy="integrated")  # an adaptive council: its memory is saved too
    model.run_for(120)
    path = model.save(tmp_path / "zone", note="test")
    assert path.suffix == ".npz" and path.exists()
    loaded = ZoneModel.load(path)
    assert_same_state(model, loaded)
    assert np.array_equal(model.acc_start, loaded.acc_start)
    assert np.array_equal(model.prm, loaded.prm)  # an adaptive council changes parameters
    assert (loaded.day, loaded.time, loaded.seed) == (model.day, model.time, model.seed)
    assert loaded.policy == model.policy and loaded.config == model.config
    for a, b in zip(model.councils, loaded.councils, strict=True):
        assert a.indicators == b.indicators and len(a.decisions) == len(b.decisions)
    meta = read_metadata(path)
    import zonesim

    assert meta["zonesim_version"] == zonesim.__version__ and "git_commit" in meta
    assert meta["seed"] == model.seed and meta["day"] == model.day and meta["note"] == "test"
    assert meta["config"]["zone"]["population"] == POP
    # running on from the file gives the same numbers as running on in memory
    model.run_for(90)
    loaded.run_for(90)
    assert_same_state(model, loaded)
    assert_same_card(model, loaded)
    assert [c.decisions for c in model.councils] == [c.decisions for c in loaded.councils]


def test_a_checkpoint_holds_no_pickled_code(tmp_path):
    path = warmed(10).save(tmp_path / "a.npz")
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert "meta.json" in names
        for name in names:
            if name.endswith(".npy"):
                arr = np.lib.format.read_array(zf.open(name), allow_pickle=False)
                assert arr.dtype != object
    # a file with a pickled object array is refused, not unpickled
    bad = tmp_path / "bad.npz"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "acc_start.npy":
                import io

                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.array([print], dtype=object), allow_pickle=True)
                data = buf.getvalue()
            dst.writestr(name, data)
    with pytest.raises(ZonesimInputError, match="cannot be loaded safely"):
        ZoneModel.load(bad)


def test_bad_checkpoints_are_one_clear_error(tmp_path):
    (tmp_path / "x.npz").write_text("not a zip")
    with pytest.raises(ZonesimInputError, match="not a zonesim checkpoint"):
        ZoneModel.load(tmp_path / "x.npz")
    with pytest.raises(ZonesimInputError, match="file not found"):
        ZoneModel.load(tmp_path / "missing.npz")
    path = warmed(5).save(tmp_path / "v.npz")
    with zipfile.ZipFile(path) as zf:
        meta = json.loads(zf.read("meta.json"))
        parts = {n: zf.read(n) for n in zf.namelist()}
    meta["format_version"] = 99
    parts["meta.json"] = json.dumps(meta).encode()
    with zipfile.ZipFile(tmp_path / "v99.npz", "w") as zf:
        for n, data in parts.items():
            zf.writestr(n, data)
    with pytest.raises(ZonesimInputError, match="format version 99"):
        ZoneModel.load(tmp_path / "v99.npz")


def _rewrite(path, out, change):
    """A copy of checkpoint ``path`` at ``out`` with ``change(name, array)`` applied to each
    array."""
    import io

    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name.endswith(".npy"):
                arr = change(name[:-4], np.lib.format.read_array(io.BytesIO(data)))
                buf = io.BytesIO()
                np.lib.format.write_array(buf, arr, allow_pickle=False)
                data = buf.getvalue()
            dst.writestr(name, data)
    return out


def _fields_reversed(arr, drop=()):
    names = [n for n in reversed(arr.dtype.names) if n not in drop]
    out = np.zeros(arr.shape, [(n, arr.dtype.fields[n][0]) for n in names])
    for n in names:
        out[n] = arr[n]
    return out


def test_a_checkpoint_with_its_records_in_another_field_order_loads(tmp_path):
    """Records load by field name: a checkpoint written before an accumulator (or a parameter)
    moved beside its process, its records' fields in another order, is the same model."""
    model = warmed(40)
    model.reset_measurement()
    model.run_for(70)  # month-end snapshots of the accumulators
    assert model.snapshots
    path = model.save(tmp_path / "new.npz")

    def reorder(name, arr):
        return _fields_reversed(arr) if arr.dtype.names else arr

    old = ZoneModel.load(_rewrite(path, tmp_path / "old.npz", reorder))
    assert old.state.acc.dtype == model.state.acc.dtype
    assert_same_state(model, old)
    assert np.array_equal(old.acc_start, model.acc_start)
    model.run_for(40)
    old.run_for(40)
    assert_same_state(model, old)
    assert_same_card(model, old)

    def drop(name, arr):
        return _fields_reversed(arr, drop=("falls",)) if name == "state/acc" else arr

    gone = r"gone\.npz.*record state/acc.*missing \['falls'\]"
    with pytest.raises(ZonesimInputError, match=gone):
        ZoneModel.load(_rewrite(path, tmp_path / "gone.npz", drop))


def test_branching_under_the_same_policy_continues_exactly():
    a = warmed()
    b = a.branch("status_quo")
    a.run_for(200)
    b.run_for(200)
    assert_same_state(a, b)


@pytest.mark.parametrize("policy", ["integrated", "case_management_pool", "task_shifting"])
def test_branching_in_process_and_from_the_saved_file_give_identical_results(tmp_path, policy):
    a = warmed()
    path = a.save(tmp_path / "warm.npz")
    in_process = a.branch(policy)
    from_file = ZoneModel.load(path).branch(policy)
    assert_same_state(in_process, from_file)
    for m in (in_process, from_file):
        m.reset_measurement()
        m.run_for(150)
    assert_same_state(in_process, from_file)
    assert_same_card(in_process, from_file)


def test_a_branch_keeps_the_population_and_takes_the_new_policys_levers():
    from zonesim.core import state as S

    a = warmed(90)
    b = a.branch("integrated")
    # the people and their history are the warmed-up ones
    for name in ("need", "situation", "birth_day", "caregiver", "gp_contacts", "utility"):
        assert np.array_equal(getattr(a.state.pat, name), getattr(b.state.pat, name))
    assert b.day == a.day and b.time == a.time and b.policy.name == "integrated"
    # the new policy's case managers exist, and every client is held by a case manager of it
    cms = np.flatnonzero(b.state.prov.discipline == S.CASE_MANAGER)
    cm_a = a.state.prov.discipline == S.CASE_MANAGER
    assert b.state.prov.fte[cms].sum() > a.state.prov.fte[cm_a].sum()
    held = b.state.pat.case_manager[b.state.pat.case_manager >= 0]
    assert np.isin(held, cms).all()
    assert b.state.prov.caseload[cms].sum() >= len(held)
    # care plans follow the new policy's share (a superset of the old one's)
    plan_a = (a.state.pat.flags & S.F_CARE_PLAN) != 0
    plan_b = (b.state.pat.flags & S.F_CARE_PLAN) != 0
    assert plan_b.sum() > plan_a.sum() and not (plan_a & ~plan_b & (a.state.pat.need >= 2)).any()
    # GPs keep their state (strain, sick leave) under every policy
    gp_a = np.flatnonzero(a.state.prov.discipline == S.GP)
    gp_b = np.flatnonzero(b.state.prov.discipline == S.GP)
    assert np.array_equal(gp_a, gp_b)  # GP slots come first under every policy
    for name in ("strain", "state", "fte", "sick_days", "utilisation_ema"):
        assert np.array_equal(getattr(a.state.prov, name)[gp_a], getattr(b.state.prov, name)[gp_b])


def test_another_seed_gives_another_future_from_the_same_state():
    a = warmed()
    b1, b2 = a.branch("status_quo", rng=101), a.branch("status_quo", rng=102)
    assert_same_state(b1, b2)
    b1.run_for(60)
    b2.run_for(60)
    assert not np.array_equal(b1.state.acc, b2.state.acc)


def test_a_region_says_it_cannot_be_saved(tmp_path):
    from zonesim import Region, load_config
    from zonesim.geography import zone_from_config

    cfg = load_config(overrides={"zone.population": 400})
    region = Region([zone_from_config(cfg.zone)], cfg, rng=1, agents=False)
    with pytest.raises(ZonesimInputError, match="single zone"):
        region.save(tmp_path / "r.npz")
    with pytest.raises(ZonesimInputError, match="single zone"):
        region.branch("integrated")


def test_at_the_branch_case_managed_clients_stay_held_or_go_back_disrupted():
    """What a user relies on at the branch day (docs/guide/experiments.md, "What carries over"):
    no case-managed client is lost; a policy with case managers holds every one of them (the
    caseloads add up); a policy without any sends them back to their regular team, disrupted."""
    from zonesim.core import state as S

    a = warmed(120, policy="integrated", warmup_policy="integrated")
    pat = a.state.pat
    clients = np.flatnonzero(pat.case_manager >= 0)
    managed = np.flatnonzero(pat.situation == S.CASE_MANAGED)
    assert len(clients) >= 5 and len(managed) > 0
    for policy in ("status_quo", "case_management_pool"):
        b = a.branch(policy)
        cms = np.flatnonzero(b.state.prov.discipline == S.CASE_MANAGER)
        held = b.state.pat.case_manager[clients]
        assert np.isin(held, cms).all(), policy
        assert (b.state.pat.case_manager >= 0).sum() == len(clients)
        gained = (
            b.state.prov.caseload[cms].sum()
            - a.state.prov.caseload[a.state.prov.discipline == S.CASE_MANAGER].sum()
        )
        assert gained >= 0  # handed-over clients are counted in their new case manager's load
        assert np.array_equal(b.state.pat.situation, pat.situation)  # nobody disrupted
    none = a.branch({"case_manager_fte_per_100k": 0.0})
    assert (none.state.pat.case_manager == -1).all()
    assert (none.state.pat.situation[managed] == S.DISRUPTED).all()
    others = np.setdiff1d(np.arange(len(pat.situation)), managed)
    assert np.array_equal(none.state.pat.situation[others], pat.situation[others])
