"""The dashboard without a browser: validation, the pair of models and its worker, the figures,
the page rendered with ``solara.render`` in fresh kernel contexts, and ``zonesim dashboard``.

The real-browser tests are in test_dashboard_browser.py. Populations are small (5,000) and the
engine is warmed up once per session (``engine_warm``).
"""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("solara")

from zonesim.config import PolicyConfig
from zonesim.dashboard import CONFIG_ENV, charts, controls
from zonesim.dashboard import state as st
from zonesim.errors import ZonesimInputError

POP = 5_000

SMALL_ZONE = f"""
[zone]
name = "Small zone"
population = {POP}
n_municipalities = 5
"""


@pytest.fixture(scope="session")
def engine_warm():
    """One JIT warm-up per session: build and step a tiny pair (compiles or loads the kernels)."""
    settings = st.make_settings(st.load_base_config(None), population=500, seed=1, years=1)
    pair = st.Pair.build(settings, st.preset_policy("status_quo"), st.preset_policy("integrated"))
    pair.step(1)
    return True


@pytest.fixture
def settings(engine_warm) -> st.Settings:
    return st.make_settings(st.load_base_config(None), population=POP, seed=7, years=1)


@pytest.fixture
def small_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A 5,000-inhabitant zone the page starts from (as ``zonesim dashboard --config``)."""
    path = tmp_path / "small.toml"
    path.write_text(SMALL_ZONE)
    monkeypatch.setenv(CONFIG_ENV, str(path))
    return path


# --- validation ------------------------------------------------------------------------------


def test_import_zonesim_and_the_cli_need_no_solara():
    code = (
        "import sys, zonesim, zonesim.cli, zonesim.dashboard, zonesim.dashboard.state, "
        "zonesim.dashboard.charts; zonesim.cli.build_parser(); "
        "print('solara' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_policy_lever_has_an_editor_once():
    names = [
        f.name for f in dataclasses.fields(PolicyConfig) if f.name not in ("name", "description")
    ]
    grouped = [lv.name for _, members in controls.lever_groups() for lv in members]
    assert sorted(grouped) == sorted(names)
    assert len(grouped) == len(set(grouped))
    by = {lv.name: lv for lv in controls.levers()}
    assert by["case_manager_fte_per_100k"].kind == "float"
    assert by["case_manager_fte_per_100k"].unit == "FTE/100k"
    assert by["case_manager_fte_per_100k"].lo == 0
    assert by["caseload_cap"].kind == "int"
    assert by["information_point"].kind == "bool"
    assert by["allocation_rule"].kind == "choice"
    assert "equity_weighted" in by["allocation_rule"].choices


@pytest.mark.parametrize(
    ("text", "integer", "expected"),
    [("12", True, 12), (" 2.5 ", False, 2.5), ("1e3", True, 1000), ("110_000", True, 110000)],
)
def test_parse_number_accepts_plain_numbers(text, integer, expected):
    assert controls.parse_number(text, integer=integer, what="x") == expected


@pytest.mark.parametrize(
    ("text", "integer", "message"),
    [
        ("", True, "empty; expected a whole number"),
        ("   ", False, "empty; expected a number"),
        ("abc", False, "expected a number"),
        ("2.5", True, "expected a whole number"),
        ("nan", False, "expected a finite number"),
        ("__import__('os')", False, "expected a number"),
    ],
)
def test_parse_number_rejects_with_a_clear_message(text, integer, message):
    with pytest.raises(ZonesimInputError, match=message.replace("(", r"\(")):
        controls.parse_number(text, integer=integer, what="population")


def test_edit_policy_validates_one_lever():
    pol = st.preset_policy("integrated")
    new = st.edit_policy(pol, "case_manager_fte_per_100k", 9.0)
    assert new.case_manager_fte_per_100k == 9.0
    assert new.name == "integrated (edited)"
    changed = [
        f.name
        for f in dataclasses.fields(pol)
        if getattr(pol, f.name) != getattr(new, f.name) and f.name != "name"
    ]
    assert changed == ["case_manager_fte_per_100k"]
    with pytest.raises(ZonesimInputError, match=r"case_manager_fte_per_100k.*>= 0"):
        st.edit_policy(pol, "case_manager_fte_per_100k", -1.0)
    with pytest.raises(ZonesimInputError, match="expected one of"):
        st.edit_policy(pol, "allocation_rule", "lottery")
    with pytest.raises(ZonesimInputError, match="unknown lever"):
        st.edit_policy(pol, "name", "x")


def test_budget_envelope_refuses_or_scales(settings):
    pol = st.preset_policy("integrated")
    tight = dataclasses.replace(pol, budget_envelope_per_capita=1.0)
    with pytest.raises(ZonesimInputError, match="over its envelope"):
        st.check_budget(tight, settings)
    loose = dataclasses.replace(pol, budget_envelope_per_capita=50.0, over_budget="scale")
    scaled, note = st.check_budget(loose, settings)
    assert note is not None and "scaled" in note
    assert scaled.case_manager_fte_per_100k < pol.case_manager_fte_per_100k
    assert st.check_budget(pol, settings) == (pol, None)


def test_make_settings_rejects_bad_input():
    base = st.load_base_config(None)
    with pytest.raises(ZonesimInputError, match=">= 1"):
        st.make_settings(base, population=0)
    with pytest.raises(ZonesimInputError, match="at most"):
        st.make_settings(base, population=50_000_000)
    with pytest.raises(ZonesimInputError, match="one inhabitant per municipality"):
        st.make_settings(base, population=3)
    with pytest.raises(ZonesimInputError, match="years"):
        st.make_settings(base, years=0)
    with pytest.raises(ZonesimInputError, match="seed"):
        st.make_settings(base, seed=-1)
    with pytest.raises(ZonesimInputError, match="unknown scenario"):
        st.make_settings(base, scenario="doom")
    s = st.make_settings(base, scenario="care_paradox", population=20_000, seed=3)
    assert (s.population, s.seed, s.scenario, s.years, s.horizon_months) == (
        20_000,
        3,
        "care_paradox",
        10.0,
        120,
    )


def test_zones_from_csv_partitions_or_uses_the_zone_column(tmp_path):
    rows = ["id,name,population"] + [f"{i},Town {i},{20_000 + i}" for i in range(10)]
    path = tmp_path / "towns.csv"
    path.write_text("\n".join(rows) + "\n")
    zones = st.zones_from_csv(path)
    assert sum(z.population for z in zones) == sum(20_000 + i for i in range(10))
    assert all(75_000 <= z.population <= 125_000 for z in zones)
    s = st.make_settings(st.load_base_config(None), zone=zones[0])
    assert s.population == zones[0].population and s.zone_name == zones[0].name
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name\n1,A\n")
    with pytest.raises(ZonesimInputError, match="missing column 'population'"):
        st.zones_from_csv(bad)


def test_a_zone_from_a_csv_runs(engine_warm, tmp_path):
    path = tmp_path / "zone.csv"
    path.write_text("id,name,population,zone\n1,Alpha,1800,Z\n2,Beta,700,Z\n3,Gamma,500,Z\n")
    (zone,) = st.zones_from_csv(path)
    s = st.make_settings(st.load_base_config(None), zone=zone, seed=2, years=1)
    pair = st.Pair.build(s, st.preset_policy("status_quo"), st.preset_policy("integrated"))
    pair.step(1)
    view = pair.view(1)
    assert view.zone_name == "Z" and view.population == 3000
    assert [r["municipality"] for r in view.municipalities] == ["Alpha", "Beta", "Gamma"]
    assert [r["inhabitants"] for r in view.municipalities] == pytest.approx(
        [1800, 700, 500], abs=20
    )


def test_uploaded_csv_errors_name_the_upload_not_the_temp_file():
    from zonesim.dashboard import app

    with pytest.raises(ZonesimInputError) as info:
        app.load_zones(b"id;name;population\n1;A;lots\n", "my_towns.csv")
    assert "my_towns.csv" in str(info.value)
    assert "zonesim-upload" not in str(info.value)
    zones = app.load_zones(b"id,name,population,zone\n1,A,900,Z1\n2,B,700,Z1\n", "z.csv")
    assert [(z.name, z.population) for z in zones] == [("Z1", 1600)]


# --- the pair of models ----------------------------------------------------------------------


def _same(rows) -> list[dict]:
    """Rows with NaN as None, so that equal runs compare equal."""
    return [{k: None if v != v else v for k, v in r.items()} for r in rows]


def test_pair_runs_both_policies_under_common_random_numbers(settings):
    same = st.Pair.build(settings, st.preset_policy("status_quo"), st.preset_policy("status_quo"))
    same.step(2)
    base, alt = (same.sides[k] for k in st.SIDES)
    assert base.month == alt.month == 2
    assert _same(base.monthly) == _same(alt.monthly)  # same zone, seed, policy: same bits
    pair = st.Pair.build(settings, st.preset_policy("status_quo"), st.preset_policy("integrated"))
    pair.step(2)
    assert _same(pair.sides["baseline"].monthly) == _same(base.monthly)  # nothing leaks
    assert _same(pair.sides["alternative"].monthly) != _same(base.monthly)
    view = pair.view(1)
    assert view.month == 2 and view.months == {"baseline": 2, "alternative": 2}
    for side in st.SIDES:
        flow = view.flow[side]
        # moments still open at the end of the shared warm-up may resolve in the window, so
        # "resolved" may exceed "triggered" (the integrated side resolves them faster)
        assert flow["triggered"] > 0 and flow["resolved"] > 0
        assert min(flow.values()) >= 0
        open_now = flow["regular_team"] + flow["waiting_cm"] + flow["case_managed"]
        assert open_now <= flow["triggered"] + 1000  # stocks are people, not a running sum
        c = view.caseloads[side]
        assert len(c["caseload"]) == len(c["cap"]) and (c["caseload"] <= c["cap"] + 1e-9).all()
        assert {r["discipline"] for r in view.strain[side]} >= {"gp", "nurse", "case_manager"}
    rows = view.municipalities
    assert len(rows) == 7  # the default zone's municipalities
    assert sum(r["inhabitants"] for r in rows) == pair.sides["baseline"].model.alive
    assert all(r["gp_contacts_per_capita_year_baseline"] > 0 for r in rows)
    card = {r["metric"]: r for r in view.scorecard}
    row = card["cost_per_capita_eur"]
    assert row["difference"] == pytest.approx(row["alternative"] - row["baseline"])


def test_both_sides_can_start_from_a_checkpoint(engine_warm, tmp_path):
    from zonesim import ZoneModel

    model = ZoneModel(population=POP, rng=4, agents=False, years=2)
    model.run_for(60)
    path = model.save(tmp_path / "warm.npz")
    s = st.make_settings(st.load_base_config(None), checkpoint=path, seed=9, years=0.5)
    assert (s.checkpoint, s.checkpoint_day, s.population) == (str(path), model.day, POP)
    pair = st.Pair.build(s, st.preset_policy("status_quo"), st.preset_policy("integrated"))
    pair.step(2)
    base, alt = (pair.sides[k] for k in st.SIDES)
    assert base.month == alt.month == 2
    assert base.model.day == alt.model.day == model.day + 61  # two months after the checkpoint
    assert _same(base.monthly) != _same(alt.monthly)
    # the same people as the checkpoint's: entrants take free slots at random (issue 15, so
    # paired runs keep their entrants), including those of people who died since, so nearly
    # every slot living at the checkpoint still holds its person two months on
    n = int(model.state.zone["next_free"][0])
    living = model.state.pat.situation[:n] < 4  # not deceased
    born = model.state.pat.birth_day[:n]
    same = base.model.state.pat.birth_day[:n] == born
    assert living.sum() > 0.9 * n
    assert np.mean(same[living]) > 0.95
    with pytest.raises(ZonesimInputError, match="file not found"):
        st.make_settings(st.load_base_config(None), checkpoint=tmp_path / "nope.npz")


def test_figures_draw_content(settings):
    pair = st.Pair.build(settings, st.preset_policy("status_quo"), st.preset_policy("integrated"))
    empty = pair.view(0)
    pair.step(2)
    view = pair.view(1)
    for key in charts.FIGURES:
        for v in (empty, view):
            data = charts.figure_png(key, v, dpi=50)
            assert data.startswith(b"\x89PNG")
            assert not charts.is_blank(data), key
    blank = charts.png(charts._figure(2, 2), dpi=20)
    assert charts.is_blank(blank)


# --- the worker ------------------------------------------------------------------------------


def _controller(settings, alt="integrated") -> st.Controller:
    ctl = st.Controller(settings, st.preset_policy("status_quo"), st.preset_policy(alt))
    ctl.start()
    ctl.wait_idle()
    return ctl


def test_controller_steps_plays_pauses_and_resets(settings):
    seen: list[st.Status] = []
    ctl = st.Controller(
        settings, st.preset_policy("status_quo"), st.preset_policy("integrated"), seen.append
    )
    ctl.start()
    try:
        s = ctl.wait_idle()
        assert s.view is not None and s.month == 0 and not s.busy and s.error is None
        ctl.step()
        ctl.step()
        s = ctl.wait_idle()
        assert s.month == 2 and s.view.month == 2 and s.view.months["alternative"] == 2
        ctl.play()
        s = ctl.wait_idle()
        assert s.month == settings.horizon_months == s.view.month and not s.playing
        assert any(x.busy and x.progress is not None for x in seen)  # progress was reported
        assert [x.version for x in seen] == sorted(x.version for x in seen)
        before = [r["qalys_per_capita"] for r in s.view.monthly["baseline"]]
        ctl.step()  # at the horizon: nothing more to do
        assert ctl.wait_idle().month == settings.horizon_months
        ctl.reset()
        s = ctl.wait_idle()
        assert s.month == 0 and s.view.month == 0
        ctl.step(3)
        s = ctl.wait_idle()
        assert [r["qalys_per_capita"] for r in s.view.monthly["baseline"]] == before[:3]
    finally:
        ctl.close(timeout=10)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the model's notes on a 20-year run
def test_pause_stops_a_long_run(settings):
    long = dataclasses.replace(settings, years=20.0)
    ctl = _controller(long)
    try:
        ctl.play()
        time.sleep(0.3)
        ctl.pause()
        s = ctl.wait_idle()
        assert 0 < s.month < long.horizon_months and not s.playing
    finally:
        ctl.close(timeout=10)


def test_changing_a_lever_rebuilds_only_the_alternative(settings):
    ctl = _controller(settings)
    try:
        ctl.step(2)
        s = ctl.wait_idle()
        base_model = ctl._pair.sides["baseline"].model
        base_rows = s.view.monthly["baseline"]
        alt_rows = s.view.monthly["alternative"]
        new = st.edit_policy(ctl.policy("alternative"), "case_manager_fte_per_100k", 20.0)
        ctl.set_policy("alternative", new)
        s = ctl.wait_idle()
        assert (
            s.error is None and s.month == 2 and s.view.months == {"baseline": 2, "alternative": 2}
        )
        assert ctl._pair.sides["baseline"].model is base_model  # untouched, not re-run
        assert _same(s.view.monthly["baseline"]) == _same(base_rows)
        assert _same(s.view.monthly["alternative"]) != _same(alt_rows)
        assert s.view.policies["alternative"].case_manager_fte_per_100k == 20.0
        assert s.view.policies["baseline"].name == "status_quo"
    finally:
        ctl.close(timeout=10)


def test_a_failed_build_keeps_the_previous_models(settings):
    ctl = _controller(settings)
    try:
        ctl.step()
        ctl.wait_idle()
        pair = ctl._pair
        over = dataclasses.replace(st.preset_policy("integrated"), budget_envelope_per_capita=1.0)
        ctl.set_policy("alternative", over)  # the page checks first; the worker must cope too
        s = ctl.wait_idle()
        assert s.error is not None and "envelope" in s.error
        assert ctl._pair is pair and s.month == 1
        ctl.step()
        s = ctl.wait_idle()
        assert s.month == 2 and s.error is None
    finally:
        ctl.close(timeout=10)


def test_two_controllers_share_nothing(settings):
    a, b = _controller(settings), _controller(settings)
    try:
        a.step(3)
        assert a.wait_idle().month == 3
        assert b.wait_idle().month == 0
        assert a._pair.sides["baseline"].model is not b._pair.sides["baseline"].model
        b.set_policy("alternative", st.preset_policy("task_shifting"))
        b.wait_idle()
        assert a.policy("alternative").name == "integrated"
        assert a.status.view.policies["alternative"].name == "integrated"
    finally:
        a.close(timeout=10)
        b.close(timeout=10)


# --- the page, rendered without a browser ----------------------------------------------------


def _walk(w):
    import ipywidgets

    yield w
    for name in ("children", "v_slots"):
        for c in getattr(w, name, None) or []:
            c = c.get("children") if isinstance(c, dict) else c
            if isinstance(c, ipywidgets.Widget):
                yield from _walk(c)


def _by_class(root, cls: str) -> list:
    out = []
    for w in _walk(root):
        names = (getattr(w, "class_", None) or "").split() + list(getattr(w, "_dom_classes", ()))
        if cls in names:
            out.append(w)
    return out


def _strings(root) -> str:
    """All text in a widget tree."""
    return " ".join(
        c for w in _walk(root) for c in (getattr(w, "children", None) or []) if isinstance(c, str)
    )


def _text(root, cls: str) -> str:
    return " ".join(_strings(w) for w in _by_class(root, cls))


def _months(box, m: int, alternative: str = "integrated") -> bool:
    """The charts show month ``m`` of both models."""
    want = f"Baseline (status_quo) month {m}, Alternative ({alternative}) month {m}"
    return want in _text(box, "zonesim-view-month")


def _wait(pred, timeout: float = 120.0) -> None:
    t0 = time.monotonic()
    while not pred():
        if time.monotonic() - t0 > timeout:
            raise TimeoutError("condition not met")
        time.sleep(0.02)


# Solara's kernel context asks asyncio for an event loop outside one (harmless here).
page_warnings = pytest.mark.filterwarnings("ignore:There is no current event loop")


@pytest.fixture
def kernel_context():
    """A fresh Solara kernel context per call (one per simulated browser session)."""
    from solara.server import kernel, kernel_context

    made = []

    def make(name: str):
        ctx = kernel_context.VirtualKernelContext(
            id=f"test-{name}-{time.monotonic_ns()}", kernel=kernel.Kernel(), session_id=name
        )
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.close()


def _render_page(ctx):
    import solara

    from zonesim.dashboard import app

    with ctx:
        box, rc = solara.render(app.Page(), handle_error=False)
    _wait(lambda: _by_class(box, "zonesim-chart-aims"))
    return box, rc


def _lever_field(box, side: str, lever: str):
    import ipyvuetify as v

    card = _by_class(box, f"zonesim-policy-{side}")[0]
    holder = _by_class(card, f"zonesim-lever-{lever}")[0]
    return next(w for w in _walk(holder) if isinstance(w, v.TextField))


@page_warnings
def test_page_renders_steps_and_reports_bad_input(engine_warm, small_config, kernel_context):
    ctx = kernel_context("a")
    box, rc = _render_page(ctx)
    with ctx:
        assert "Month 0 of 12" in _text(box, "zonesim-month")
        assert "Small zone: 5,000 inhabitants" in _text(box, "zonesim-view-month")
        assert not _by_class(box, "zonesim-error")
        _by_class(box, "zonesim-step")[0].fire_event("click", {})
        _wait(
            lambda: (
                "Baseline (status_quo) month 1, Alternative (integrated) month 1"
                in _text(box, "zonesim-view-month")
            )
        )
        # a negative FTE: a message under the field and in the page; the policy is kept
        field = _lever_field(box, "alternative", "case_manager_fte_per_100k")
        field.v_model = "-3"
        field.fire_event("keyup.enter", {})
        _wait(lambda: "case_manager_fte_per_100k" in _text(box, "zonesim-error"))
        assert ">= 0" in _text(box, "zonesim-error")
        assert field.error and "case_manager_fte_per_100k" in str(field.messages)
        assert "Alternative: integrated" in _strings(box)
        assert "integrated (edited)" not in _strings(box)
        # an empty population: a clear message, the models keep running
        pop = next(
            w for w in _walk(_by_class(box, "zonesim-population")[0]) if hasattr(w, "v_model")
        )
        pop.v_model = ""
        pop.fire_event("keyup.enter", {})
        _wait(lambda: pop.error and "empty" in str(pop.messages))
        _by_class(box, "zonesim-step")[0].fire_event("click", {})
        _wait(
            lambda: (
                "Baseline (status_quo) month 2, Alternative (integrated) month 2"
                in _text(box, "zonesim-view-month")
            )
        )
        rc.close()


@page_warnings
def test_page_sessions_are_isolated(engine_warm, small_config, kernel_context):
    ctx_a, ctx_b = kernel_context("a"), kernel_context("b")
    box_a, rc_a = _render_page(ctx_a)
    box_b, rc_b = _render_page(ctx_b)
    with ctx_a:
        _by_class(box_a, "zonesim-step")[0].fire_event("click", {})
        _by_class(box_a, "zonesim-step")[0].fire_event("click", {})
    _wait(lambda: "Baseline (status_quo) month 2" in _text(box_a, "zonesim-view-month"))
    with ctx_b:
        assert "Baseline (status_quo) month 0" in _text(box_b, "zonesim-view-month")
        field = _lever_field(box_b, "alternative", "case_manager_fte_per_100k")
        field.v_model = "15"
        field.fire_event("keyup.enter", {})
    _wait(lambda: "Alternative: integrated (edited)" in _strings(box_b))
    assert "Alternative: integrated (edited)" not in _strings(box_a)
    assert "Baseline (status_quo) month 2" in _text(box_a, "zonesim-view-month")
    with ctx_a:
        rc_a.close()
    with ctx_b:
        rc_b.close()


# --- zonesim dashboard -----------------------------------------------------------------------


def test_cli_help_and_bad_input(zonesim_main, tmp_path):
    import zonesim.cli as cli

    rc, out, _ = zonesim_main("dashboard", "--help")
    assert rc == 0 and "127.0.0.1" in out and "--config" in out
    parser = cli.build_parser()
    args = parser.parse_args(["dashboard"])
    assert (args.host, args.port, args.config) == ("127.0.0.1", 8765, None)
    rc, _, err = zonesim_main("dashboard", "--port", "70000")
    assert rc == 2 and "port" in err
    bad = tmp_path / "bad.toml"
    bad.write_text("[zone]\npopulation = -5\n")
    rc, _, err = zonesim_main("dashboard", "--config", bad)
    assert rc == 2 and "zone.population" in err and len(err.strip().splitlines()) == 1
    rc, _, err = zonesim_main("dashboard", "--config", tmp_path / "missing.toml")
    assert rc == 2 and "not found" in err


def test_cli_says_how_to_install_the_dashboard(zonesim_main, monkeypatch):
    import importlib.util

    from zonesim.cli import dashboard as cli_dashboard

    real = importlib.util.find_spec
    monkeypatch.setattr(
        cli_dashboard.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "solara" else real(name, *a),
    )
    rc, _, err = zonesim_main("dashboard")
    assert rc == 2 and "pip install 'zonesim[dashboard]'" in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cli_serves_the_page_on_localhost(tmp_path, repo_root):
    config = tmp_path / "small.toml"
    config.write_text(SMALL_ZONE)
    port = _free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    argv = ["dashboard", "--port", str(port), "--config", str(config)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "zonesim", *argv],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
        env=env,
        text=True,
    )
    try:
        body = ""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    body = r.read().decode()
                    break
            except OSError:
                time.sleep(0.3)
        assert "solara" in body.lower()
        try:
            conns = subprocess.run(["ss", "-ltn"], capture_output=True, text=True).stdout
        except FileNotFoundError:  # no iproute2: skip this part of the check
            conns = ""
        if conns:  # bound to 127.0.0.1 only, not 0.0.0.0
            mine = [line for line in conns.splitlines() if f":{port} " in line]
            assert mine and all("127.0.0.1:" in line for line in mine), mine
    finally:
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert f"http://127.0.0.1:{port}/" in out


# --- health economics ------------------------------------------------------------------------


def test_economics_of_the_pair_and_of_a_saved_comparison(settings, tmp_path):
    import zonesim

    pair = st.Pair.build(settings, st.preset_policy("status_quo"), st.preset_policy("integrated"))
    pair.step(3)
    view = pair.view(1)
    base, alt = st.side_label(view, "baseline"), st.side_label(view, "alternative")
    assert (base, alt) == ("baseline: status_quo", "alternative: integrated")
    yearly = st.pair_yearly(view)
    payer = st.economics(yearly, base, wtp=30_000)
    societal = st.economics(yearly, base, wtp=30_000, perspective="societal")
    rows = {r["policy"]: r for r in st.economics_rows(payer)}
    assert set(rows) == {base, alt} and rows[base]["incremental cost"] == 0
    r = rows[alt]
    nmb = 30_000 * r["incremental QALYs"] - r["incremental cost"]
    assert r["incremental net monetary benefit"] == pytest.approx(nmb)
    # the societal perspective adds informal care: the costs differ, the QALYs do not
    soc = {x["policy"]: x for x in st.economics_rows(societal)}
    assert soc[alt]["cost (euro)"] > r["cost (euro)"] and soc[alt]["QALYs"] == r["QALYs"]
    budget = st.budget_rows(payer)
    assert [b["year"] for b in budget] == [1] and budget[0]["policy"] == alt
    assert "Belgium has no official" in st.NO_THRESHOLD
    for key in charts.ECONOMICS_FIGURES:
        assert not charts.is_blank(charts.economics_png(key, payer, dpi=40)), key
    with pytest.raises(ZonesimInputError, match="willingness to pay"):
        st.economics(yearly, base, wtp=-1.0)
    with pytest.raises(ZonesimInputError, match="perspective"):
        st.economics(yearly, base, perspective="patient")
    # a saved comparison: every replicate is a draw, so the plane and the curve have a shape
    res = zonesim.compare(
        population=1500,
        replicates=3,
        years=1.0,
        warmup_days=10,
        policies=["status_quo", "integrated"],
        workers=1,
    )
    res.save(tmp_path / "cmp", figures=False)
    yearly, comparator = st.comparison_yearly(tmp_path / "cmp")
    ce = st.economics(yearly, comparator)
    assert comparator == "status_quo" and ce.draws["draw"].nunique() == 3
    assert len(ce.acceptability) > 0 and not any("one draw" in n for n in ce.notes)
    with pytest.raises(ZonesimInputError, match="saved comparison"):
        st.comparison_yearly(tmp_path)


@page_warnings
def test_page_economics_panel_shows_the_table_and_reacts_to_its_controls(
    engine_warm, small_config, kernel_context
):
    ctx = kernel_context("econ")
    box, rc = _render_page(ctx)
    with ctx:
        _by_class(box, "zonesim-step")[0].fire_event("click", {})
        _wait(lambda: "month 1" in _text(box, "zonesim-view-month"))
        import ipyvuetify as v

        from zonesim.dashboard import app

        toggle = next(
            w
            for w in _walk(box)
            if isinstance(w, v.BtnToggle) and _by_class(w, "zonesim-panel-economics")
        )
        toggle.v_model = [k for k, _ in app.PANELS].index("economics")  # what a click does
        _wait(lambda: _by_class(box, "zonesim-ce-table"))
        assert "no official willingness-to-pay threshold" in _strings(box)
        assert "payer perspective" in _strings(box) and "50,000 euro per QALY" in _strings(box)
        for key in charts.ECONOMICS_FIGURES:
            assert _by_class(box, f"zonesim-chart-{key}"), key
        field = next(
            w for w in _walk(_by_class(box, "zonesim-economics-wtp")[0]) if hasattr(w, "v_model")
        )
        field.v_model = "20000"
        field.fire_event("keyup.enter", {})
        _wait(lambda: "20,000 euro per QALY" in _strings(box))
        field.v_model = "-5"
        field.fire_event("keyup.enter", {})
        _wait(lambda: field.error)
        assert "20,000 euro per QALY" in _strings(box)  # the last good value stays
        rc.close()
