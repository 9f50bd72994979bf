"""The dashboard page: two policies side by side on the same zone and seed.

Run it with ``zonesim dashboard`` (or ``solara run zonesim.dashboard.app:Page``). Each browser
session (each page load) renders :func:`Page` in its own kernel context, and ``Page`` makes its
own :class:`~zonesim.dashboard.state.Controller` with ``solara.use_memo``: sessions never share
models. The controller's worker thread builds and steps the models and hands the page a new
:class:`~zonesim.dashboard.state.Status` after every simulated month; the page only reads those
immutable snapshots, so it never waits for the engine.

Why not Mesa's SolaraViz: SolaraViz drives one model from one set of model parameters with its
own step/play loop in the page. Here two models must advance together (common random numbers),
be rebuilt one at a time when a lever changes, and run in a background thread with progress, so
the page is plain Solara; the models themselves are ordinary Mesa models (``zonesim.ZoneModel``)
that SolaraViz can still show one at a time.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import solara

from .. import config as C
from ..errors import ZonesimInputError
from ..policies import preset_names
from . import CHECKPOINT_ENV, COMPARISON_ENV, CONFIG_ENV, charts
from . import state as st
from .controls import NumberField, PolicyEditor, parse_number

log = logging.getLogger("zonesim.dashboard")

DEFAULT_POLICIES = ("status_quo", "integrated")
MAX_CSV_BYTES = 5_000_000
PANELS = (
    ("aims", "Aims"),
    ("difference", "Difference"),
    ("flow", "Switch moments"),
    ("caseloads", "Caseloads"),
    ("strain", "Strain"),
    ("municipalities", "Municipalities"),
    ("scorecard", "Scorecard"),
    ("economics", "Economics"),
)


# ---------------------------------------------------------------------------------------------
# Session set-up (per page load)
# ---------------------------------------------------------------------------------------------


def initial_settings() -> tuple[C.Config, st.Settings, str | None]:
    """The configuration from ``$ZONESIM_DASHBOARD_CONFIG`` (set by ``zonesim dashboard
    --config``), its settings, and an error message when it could not be used (then the
    built-in default zone is used instead)."""
    path = os.environ.get(CONFIG_ENV) or None
    checkpoint = os.environ.get(CHECKPOINT_ENV) or None
    try:
        base = st.load_base_config(path)
        return base, st.make_settings(base, checkpoint=checkpoint), None
    except ZonesimInputError as exc:
        base = st.load_base_config(None)
        return base, st.make_settings(base), f"{exc} (using the built-in default zone)"


def make_controller(on_change) -> tuple[st.Controller, C.Config, str | None]:
    base, settings, error = initial_settings()
    pols = [st.preset_policy(name) for name in DEFAULT_POLICIES]
    ctl = st.Controller(settings, *pols, on_change=on_change)
    return ctl, base, error


# ---------------------------------------------------------------------------------------------
# Components
# ---------------------------------------------------------------------------------------------


@solara.component
def Chart(key: str, view: st.View):
    """One figure of the view as an image, and a button to download it as PNG."""
    title, builder = charts.FIGURES[key]
    fig = solara.use_memo(lambda: builder(view), [key, view.version])
    data = solara.use_memo(lambda: charts.png(fig, dpi=90), [fig])
    with solara.Column(classes=["zonesim-chart", f"zonesim-chart-{key}"], gap="4px"):
        solara.Image(data, width="100%", format="png")
        solara.FileDownload(
            lambda: charts.png(fig, dpi=150),
            filename=f"zonesim_{key}_month{view.month}.png",
            label=f"Download PNG: {title.lower()}",
            mime_type="image/png",
        )


def Para(*parts: str | tuple[str, str]):
    """A paragraph of fixed text; a ``(text, tag)`` part is wrapped in that tag (e.g. "b").

    (Plain elements rather than solara.Markdown, which fetches KaTeX from a CDN.)"""
    children = [
        p if isinstance(p, str) else solara.v.Html(tag=p[1], children=[p[0]]) for p in parts
    ]
    return solara.v.Html(tag="p", children=children, style_="font-size: 0.9em; margin: 4px 0")


def _fmt(x: Any) -> str:
    if isinstance(x, str):
        return x
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return ""
    return f"{x:,.4g}" if abs(x) < 1e5 else f"{x:,.0f}"


def _csv(rows: tuple[dict[str, Any], ...]) -> str:
    if not rows:
        return ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


@solara.component
def Table(rows: tuple[dict[str, Any], ...], filename: str, classes: list[str], per_page: int = 50):
    import pandas as pd

    df = solara.use_memo(
        lambda: pd.DataFrame([{k: _fmt(v) for k, v in r.items()} for r in rows]), [rows]
    )
    with solara.Column(classes=classes, gap="4px"):
        solara.DataFrame(df, items_per_page=per_page)
        solara.FileDownload(
            lambda: _csv(rows), filename=filename, label=f"Download CSV: {filename}"
        )


@solara.component
def EconomicsPanel(view: st.View):
    """Cost-effectiveness of the alternative against the baseline (KCE reference case: costs
    3%, QALYs 1.5% a year), from the two models on the page (one draw: the session's seed) or
    from a saved comparison (``zonesim dashboard --comparison DIR``: every replicate a draw, so
    the plane has a cloud and the acceptability curve a shape). The willingness to pay and the
    perspective are controls."""
    from .. import economics as E

    saved = os.environ.get(COMPARISON_ENV) or None
    source, set_source = solara.use_state("comparison" if saved else "pair")
    wtp, set_wtp = solara.use_state(E.DEFAULT_WTP)
    perspective, set_perspective = solara.use_state("payer")

    def analyse():
        try:
            if source == "comparison" and saved:
                yearly, comparator = st.comparison_yearly(saved)
            else:
                if view.month < 1:
                    return None, "Step the models: the economics start after the first month."
                yearly, comparator = st.pair_yearly(view), st.side_label(view, "baseline")
            return st.economics(yearly, comparator, wtp=wtp, perspective=perspective), None
        except (ZonesimInputError, ValueError) as exc:
            return None, str(exc)

    key = view.version if source == "pair" else saved
    ce, problem = solara.use_memo(analyse, [source, wtp, perspective, key])

    def commit_wtp(text: str) -> str | None:
        try:
            value = parse_number(text, integer=False, what="willingness to pay", unit="euro/QALY")
        except ZonesimInputError as exc:
            return str(exc)
        if not (math.isfinite(value) and value >= 0):
            return "expected a willingness to pay >= 0 euro per QALY"
        set_wtp(float(value))
        return None

    with solara.Column(classes=["zonesim-economics"], gap="6px"):
        Para(st.NO_THRESHOLD)
        with solara.Row(style={"align-items": "center"}):
            if saved:
                solara.ToggleButtonsSingle(
                    value=source,
                    on_value=lambda v: v and set_source(v),
                    children=[
                        solara.Button("Saved comparison", value="comparison"),
                        solara.Button("The two models on the page", value="pair"),
                    ],
                    classes=["zonesim-economics-source"],
                )
            solara.ToggleButtonsSingle(
                value=perspective,
                on_value=lambda v: v and set_perspective(v),
                children=[solara.Button(p, value=p) for p in E.PERSPECTIVES],
                classes=["zonesim-economics-perspective"],
            )
            NumberField(
                "Willingness to pay (euro per QALY)",
                f"{wtp:g}",
                commit_wtp,
                classes=["zonesim-economics-wtp"],
            )
        if problem:
            solara.Info(problem, classes=["zonesim-economics-info"])
            return
        Para(f"Conventions: {ce.conventions()}.")
        if source == "pair":
            Para(
                "One draw (this seed) per policy: the plane shows one point and the "
                "acceptability curve needs several draws; start the dashboard with "
                "--comparison on a zonesim compare (--psa) folder for those."
            )
        for note in ce.notes:
            Para(f"Note: {note}.")
        Table(st.economics_rows(ce), "zonesim_cost_effectiveness.csv", ["zonesim-ce-table"])
        for fig_key in charts.ECONOMICS_FIGURES:
            data = charts.economics_png(fig_key, ce, dpi=80)
            with solara.Column(classes=["zonesim-chart", f"zonesim-chart-{fig_key}"], gap="4px"):
                solara.Image(data, width="70%", format="png")
                solara.FileDownload(
                    lambda fig_key=fig_key: charts.economics_png(fig_key, ce, dpi=150),
                    filename=f"zonesim_{fig_key}.png",
                    label=f"Download PNG: {charts.economics_title(fig_key).lower()}",
                    mime_type="image/png",
                )
        Table(st.budget_rows(ce), "zonesim_budget_impact.csv", ["zonesim-budget-table"])


@solara.component
def Panel(key: str, view: st.View):
    if key == "economics":
        EconomicsPanel(view)
        return
    if key == "scorecard":
        Para(
            "Scorecard since month 0: each metric for both policies, the difference "
            "(alternative - baseline) and the difference in percent of the baseline."
        )
        Table(
            view.scorecard,
            f"zonesim_scorecard_month{view.month}.csv",
            ["zonesim-scorecard"],
            per_page=len(view.scorecard),
        )
        return
    Chart(key, view)
    if key == "municipalities":
        Table(
            view.municipalities,
            f"zonesim_municipalities_month{view.month}.csv",
            ["zonesim-municipalities"],
        )


@solara.component
def StatusBar(ctl: st.Controller, status: solara.Reactive):
    """Step, play or pause, reset; the month; progress while the worker runs."""
    s: st.Status = status.value or ctl.status
    at_end = s.month >= s.horizon_months
    with solara.Row(classes=["zonesim-run-controls"], style={"align-items": "center"}):
        solara.Button(
            "Step",
            icon_name="mdi-skip-next",
            on_click=lambda: ctl.step(1),
            disabled=at_end,
            classes=["zonesim-step"],
        )
        if s.playing:
            solara.Button(
                "Pause", icon_name="mdi-pause", on_click=ctl.pause, classes=["zonesim-pause"]
            )
        else:
            solara.Button(
                "Play",
                icon_name="mdi-play",
                on_click=ctl.play,
                disabled=at_end,
                classes=["zonesim-play"],
            )
        solara.Button(
            "Reset", icon_name="mdi-restore", on_click=ctl.reset, classes=["zonesim-reset"]
        )
        solara.Text(
            f"Month {s.month} of {s.horizon_months} ({s.month / 12:.2f} years)",
            classes=["zonesim-month"],
        )
    if s.busy:
        value = True if s.progress is None else max(1.0, 100 * s.progress)
        solara.ProgressLinear(value, classes=["zonesim-progress"])
        solara.Text(s.phase, classes=["zonesim-phase"], style={"font-size": "0.85em"})
    else:
        solara.Text("idle: press Step (one month) or Play", classes=["zonesim-idle"])


@solara.component
def Errors(status: solara.Reactive, problems: solara.Reactive, config_error: str | None):
    """Every current problem, in the page: the worker's last failure and bad input."""
    s = status.value
    for message in [config_error, s.error if s else None, *problems.value.values()]:
        if message:
            solara.Error(message, classes=["zonesim-error"])


@solara.component
def Viewer(status: solara.Reactive, panel: solara.Reactive):
    """The chosen panel of the latest view (charts are redrawn only for a new view)."""
    s = status.value
    view = s.view if s else None
    if view is None:
        solara.Info("Building the models ...", classes=["zonesim-building"])
        return
    solara.ToggleButtonsSingle(
        value=panel.value,
        on_value=lambda v: v and panel.set(v),
        children=[
            solara.Button(label, value=k, classes=[f"zonesim-panel-{k}"]) for k, label in PANELS
        ],
    )
    months = ", ".join(
        f"{st.SIDE_TITLES[k]} ({view.policies[k].name}) month {m}" for k, m in view.months.items()
    )
    solara.Text(
        f"{view.zone_name}: {view.population:,} inhabitants, scenario {view.scenario}, "
        f"seed {view.seed}; charts at month {view.month}: {months}.",
        classes=["zonesim-view-month"],
        style={"font-size": "0.85em", "color": "#555"},
    )
    Panel(panel.value, view)


@solara.component
def SettingsCard(
    ctl: st.Controller,
    base: C.Config,
    revision: solara.Reactive[int],
    problems: solara.Reactive[dict[str, str]],
):
    revision.value  # noqa: B018 - re-render when settings or policies change
    settings = ctl.settings
    zones, set_zones = solara.use_state(None)  # zones of an uploaded CSV
    csv_name, set_csv_name = solara.use_state("")

    def apply(**changes: Any) -> str | None:
        args = {
            "scenario": settings.scenario if settings.scenario in scenarios else None,
            "population": settings.config.zone.population,
            "seed": settings.seed,
            "years": settings.years,
            "zone": settings.zone,
            "checkpoint": settings.checkpoint,
        }
        args.update(changes)
        try:
            new = st.make_settings(base, **args)
        except ZonesimInputError as exc:
            problems.set({**problems.value, "settings": f"Settings: {exc}"})
            return str(exc)
        problems.set({k: v for k, v in problems.value.items() if k != "settings"})
        ctl.apply_settings(new)
        revision.set(revision.value + 1)
        return None

    def number(name: str, integer: bool, label: str):
        def commit(text: str) -> str | None:
            try:
                value = parse_number(text, integer=integer, what=name)
            except ZonesimInputError as exc:
                problems.set({**problems.value, "settings": f"Settings: {exc}"})
                return str(exc)
            return apply(**{name: value})

        return commit

    scenarios = C.builtin_names("scenarios")
    fixed = settings.checkpoint is not None  # the zone and scenario are the checkpoint's
    with solara.Card("Zone and scenario", classes=["zonesim-settings"]):
        if fixed:
            solara.Text(
                f"Started from the checkpoint {Path(settings.checkpoint).name} (day "
                f"{settings.checkpoint_day}): both policies branch from its state; the seed "
                "drives what happens after it.",
                classes=["zonesim-checkpoint"],
            )
        solara.Select(
            "Scenario",
            values=scenarios,
            value=settings.scenario if settings.scenario in scenarios else None,
            on_value=lambda name: name and apply(scenario=name),
            disabled=fixed,
        )
        NumberField(
            "Population (inhabitants)",
            settings.population,
            number("population", True, "population"),
            message=(
                f"zone {settings.zone_name!r} from {csv_name}"
                if settings.zone is not None
                else "inhabitants of the synthetic zone"
            ),
            disabled=settings.zone is not None or fixed,
            classes=["zonesim-population"],
        )
        NumberField("Seed", settings.seed, number("seed", True, "seed"), classes=["zonesim-seed"])
        NumberField(
            "Years to run",
            f"{settings.years:g}",
            number("years", False, "years"),
            message="Play runs until here",
            classes=["zonesim-years"],
        )

        def on_file(info) -> None:
            name = str(info.get("name") or "upload.csv")
            data = info.get("data") or b""
            if len(data) > MAX_CSV_BYTES:
                problems.set(
                    {
                        **problems.value,
                        "csv": f"{name}: the file is larger than {MAX_CSV_BYTES:,} bytes",
                    }
                )
                return
            try:
                found = load_zones(data, name)
            except ZonesimInputError as exc:
                problems.set({**problems.value, "csv": str(exc)})
                return
            problems.set({k: v for k, v in problems.value.items() if k != "csv"})
            set_zones(found)
            set_csv_name(name)
            apply(zone=found[0])

        with solara.Details("Municipality CSV", expand=False):
            Para(
                "A table with columns id (or NIS_code), name (or municipality_NL) and "
                "population (or inhabitants); an optional zone column, else the table is "
                "partitioned into zones of 75,000-125,000 inhabitants."
            )
            solara.FileDrop("Drop a municipality CSV here", on_file=on_file, lazy=False)
            if zones:
                by_label = {f"{z.name} ({z.population:,})": z for z in zones}
                current = next((k for k, z in by_label.items() if z == settings.zone), None)
                solara.Select(
                    "Zone",
                    values=list(by_label),
                    value=current,
                    on_value=lambda label: label and apply(zone=by_label[label]),
                )
            if settings.zone is not None:
                solara.Button(
                    "Back to the configuration's zone",
                    text=True,
                    on_click=lambda: apply(zone=None),
                )
        solara.Text(
            f"{settings.zone_name}: {settings.population:,} inhabitants, seed {settings.seed}",
            style={"font-size": "0.85em", "color": "#555"},
        )


def load_zones(data: bytes, name: str) -> list:
    """Zones of an uploaded municipality CSV (through ``geography.load_municipalities``)."""
    fd, tmp = tempfile.mkstemp(suffix=".csv", prefix="zonesim-upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        try:
            zones = st.zones_from_csv(tmp)
        except ZonesimInputError as exc:
            raise ZonesimInputError(str(exc).replace(tmp, name)) from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    zones = [z for z in zones if z.population > 0]
    if not zones:
        raise ZonesimInputError(f"{name}: no zone with inhabitants in the table")
    return zones


@solara.component
def PolicyColumn(
    ctl: st.Controller,
    side: str,
    revision: solara.Reactive[int],
    problems: solara.Reactive[dict[str, str]],
):
    revision.value  # noqa: B018 - re-render when settings or policies change
    policy = ctl.policy(side)
    presets = solara.use_memo(preset_names, [])
    try:
        note = st.check_budget(policy, ctl.settings)[1]
    except ZonesimInputError as exc:  # e.g. a population change pushed it over its envelope
        note = str(exc)

    def fail(exc: ZonesimInputError) -> str:
        message = str(exc)
        problems.set({**problems.value, side: f"{st.SIDE_TITLES[side]} policy: {message}"})
        return message

    def accept(new: C.PolicyConfig) -> str | None:
        try:
            st.check_budget(new, ctl.settings)
        except ZonesimInputError as exc:
            return fail(exc)
        problems.set({k: v for k, v in problems.value.items() if k != side})
        ctl.set_policy(side, new)
        revision.set(revision.value + 1)
        return None

    def on_preset(name: str) -> str | None:
        try:
            new = st.preset_policy(name)
        except ZonesimInputError as exc:
            return fail(exc)
        return accept(new)

    def on_lever(lever: str, value: Any) -> str | None:
        try:
            new = st.edit_policy(policy, lever, value)
        except ZonesimInputError as exc:
            return fail(exc)
        return accept(new)

    PolicyEditor(
        side,
        st.SIDE_TITLES[side],
        charts.COLORS[side],
        policy,
        presets,
        on_preset,
        on_lever,
        note=note,
        error=problems.value.get(side),
    )


@solara.component
def Page():
    # Page reads none of these values itself, so a status update re-renders only the small
    # components that read it (StatusBar, Errors, Viewer), not the lever editors.
    status = solara.use_reactive(None)  # the latest st.Status (None: no news from the worker yet)
    problems = solara.use_reactive({})  # control -> message for bad input
    revision = solara.use_reactive(0)  # bumped when the settings or a policy change
    panel = solara.use_reactive("aims")

    def create():
        holder: dict[str, st.Controller] = {}

        def on_change(_s: st.Status) -> None:
            ctl = holder.get("ctl")
            if ctl is not None and not ctl.closed:
                status.set(ctl.status)  # always the latest, whichever thread delivers

        ctl, base, error = make_controller(on_change)
        holder["ctl"] = ctl
        return ctl, base, error

    ctl, base, config_error = solara.use_memo(create, [])

    def run_worker():
        ctl.start()
        return lambda: ctl.close()

    solara.use_effect(run_worker, [])

    solara.Title("zonesim dashboard")
    with solara.Column(classes=["zonesim-page"], style={"padding": "8px 16px"}):
        solara.v.Html(tag="h2", children=["zonesim: two policies side by side"])
        Para(
            "The same zone and seed under both policies (common random numbers). ",
            ("Step", "b"),
            " runs one month, ",
            ("Play", "b"),
            " runs to the end of the horizon, ",
            ("Reset", "b"),
            " starts again from month 0. Changing a lever rebuilds only that policy's model "
            "and brings it to the current month.",
        )
        StatusBar(ctl, status)
        Errors(status, problems, config_error)
        with solara.Columns([1, 1, 1]):
            SettingsCard(ctl, base, revision, problems)
            PolicyColumn(ctl, "baseline", revision, problems)
            PolicyColumn(ctl, "alternative", revision, problems)
        Viewer(status, panel)
