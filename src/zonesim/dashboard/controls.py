"""Lever editors generated from :class:`~zonesim.config.PolicyConfig`'s field metadata.

Every lever of the policy dataclass becomes one input: a number field (with its unit and
bounds), a switch for an on/off lever, or a select for a lever with choices. Nothing is listed by
hand except the grouping, and a lever missing from the groups still appears (under "Other
levers"), so a lever added to the policy shows up in the page by itself.

Numbers are parsed here (never ``eval``'d) and validated by :func:`zonesim.config.load_policy`
through :func:`~zonesim.dashboard.state.edit_policy`: a bad value (a negative FTE, text where a
number belongs) is shown under its field and in the page, and the policy in force is kept.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import solara

from ..config import PolicyConfig
from ..errors import ZonesimInputError

LEVER_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Case management",
        (
            "case_manager_fte_per_100k",
            "allocation_rule",
            "cm_organisation",
            "caseload_cap",
            "equity_weight",
        ),
    ),
    (
        "Pooled specialists",
        (
            "pooled_diabetes_educator_fte_per_100k",
            "pooled_psychiatric_nurse_fte_per_100k",
            "pooled_psychologist_fte_per_100k",
        ),
    ),
    (
        "Practices and task agreements",
        ("nurse_followup_share", "multidisciplinary_share_boost", "care_plan_share"),
    ),
    (
        "Information and reporting point",
        (
            "information_point",
            "information_point_gap_reduction",
            "information_point_reach",
            "information_point_contact_per_day",
            "information_point_cost_per_year",
        ),
    ),
    ("Gatekeeping", ("gatekeeping",)),
    (
        "Care council and budget",
        (
            "adaptive_council",
            "council_cycle_days",
            "governance_cost_per_year",
            "budget_envelope_per_capita",
            "over_budget",
        ),
    ),
)
_LABEL_FIELDS = ("name", "description")
_WORDS = {"fte": "FTE", "cm": "case-manager", "100k": "100,000", "ses": "SES", "gp": "GP"}


@dataclass(frozen=True)
class Lever:
    """One policy lever as the page edits it."""

    name: str
    kind: str  # "float", "int", "bool" or "choice"
    label: str
    unit: str
    doc: str
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()

    @property
    def bounds(self) -> str:
        lo = "" if self.lo is None else f"{self.lo:g}"
        hi = "" if self.hi is None else f"{self.hi:g}"
        if lo and hi:
            return f"{lo} to {hi}"
        if lo:
            return f">= {lo}"
        return f"<= {hi}" if hi else ""


def _label(name: str) -> str:
    words = [_WORDS.get(w, w) for w in name.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def levers() -> list[Lever]:
    """Every lever of :class:`PolicyConfig`, in declaration order."""
    hints = typing.get_type_hints(PolicyConfig)
    out = []
    for f in dataclasses.fields(PolicyConfig):
        if f.name in _LABEL_FIELDS or f.metadata.get("internal"):
            continue
        tp = hints[f.name]
        md = f.metadata
        if md.get("choices"):
            kind = "choice"
        elif tp is bool:
            kind = "bool"
        elif tp is int:
            kind = "int"
        elif tp is float:
            kind = "float"
        else:  # pragma: no cover - a lever type the page does not know yet
            continue
        out.append(
            Lever(
                name=f.name,
                kind=kind,
                label=_label(f.name),
                unit=md.get("unit", "") if md.get("unit", "-") != "-" else "",
                doc=md.get("doc", ""),
                lo=md.get("lo"),
                hi=md.get("hi"),
                choices=tuple(md.get("choices") or ()),
            )
        )
    return out


def lever_groups() -> list[tuple[str, list[Lever]]]:
    """The levers in the page's groups; any lever not named in a group comes last."""
    by_name = {lv.name: lv for lv in levers()}
    groups, seen = [], set()
    for title, names in LEVER_GROUPS:
        members = [by_name[n] for n in names if n in by_name]
        seen.update(lv.name for lv in members)
        if members:
            groups.append((title, members))
    rest = [lv for lv in by_name.values() if lv.name not in seen]
    if rest:
        groups.append(("Other levers", rest))
    return groups


def format_value(lever: Lever, value: Any) -> str:
    if lever.kind == "float":
        return f"{float(value):g}"
    return str(value)


def parse_number(text: str, *, integer: bool, what: str, unit: str = "") -> float | int:
    """A number typed into a field (plain decimal notation, no expressions)."""
    raw = (text or "").strip().replace("_", "").replace(" ", "")
    unit_note = f" ({unit})" if unit else ""
    kind = "a whole number" if integer else "a number"
    if not raw:
        raise ZonesimInputError(f"empty; expected {kind}{unit_note}", field=what, value=text)
    try:
        value = float(raw)
    except ValueError:
        raise ZonesimInputError(f"expected {kind}{unit_note}", field=what, value=text) from None
    if not math.isfinite(value):
        raise ZonesimInputError(f"expected a finite {kind[2:]}", field=what, value=text)
    if integer:
        if not value.is_integer():
            raise ZonesimInputError(f"expected {kind}{unit_note}", field=what, value=text)
        return int(value)
    return value


def parse_lever(lever: Lever, text: str) -> float | int:
    """The number typed for a numeric lever (validated further by the policy's own checks)."""
    return parse_number(
        text, integer=lever.kind == "int", what=f"policy.{lever.name}", unit=lever.unit
    )


# ---------------------------------------------------------------------------------------------
# Components
# ---------------------------------------------------------------------------------------------


@solara.component
def NumberField(
    label: str,
    value: Any,
    on_commit: Callable[[str], str | None],
    message: str | None = None,
    disabled: bool = False,
    classes: list[str] | None = None,
):
    """A text field for a number: commits on Enter or leaving the field; ``on_commit(text)``
    returns an error message (shown under the field, the typed text kept) or None."""
    shown = str(value)
    text, set_text = solara.use_state(shown)
    error, set_error = solara.use_state(None)

    def follow() -> None:  # the value changed from outside (a preset, a reset, a valid edit)
        set_text(shown)
        set_error(None)

    solara.use_effect(follow, [shown])

    def commit(new: str | None) -> None:
        new = new or ""
        set_text(new)
        set_error(on_commit(new))

    solara.InputText(
        label,
        value=text,
        on_value=commit,
        error=error or False,
        message=None if error else message,
        disabled=disabled,
        continuous_update=False,
        classes=classes or [],
    )


@solara.component
def LeverInput(
    lever: Lever,
    value: Any,
    on_value: Callable[[str, Any], str | None],
    disabled: bool = False,
):
    """One lever: ``on_value(name, value)`` applies it and returns an error message or None."""
    unit = f" ({lever.unit})" if lever.unit else ""
    label = f"{lever.label}{unit}"
    classes = [f"zonesim-lever-{lever.name}"]
    err, set_err = solara.use_state(None)  # for a switch or a select
    if lever.kind == "bool":

        def toggle(v: bool) -> None:
            set_err(on_value(lever.name, bool(v)))

        with solara.Column(gap="0px", classes=classes):
            solara.Switch(label=lever.label, value=bool(value), on_value=toggle, disabled=disabled)
            if err:
                solara.Text(err, style={"color": "#b00020", "font-size": "0.8em"})
        return
    if lever.kind == "choice":

        def choose(v: Any) -> None:
            if v is not None:
                set_err(on_value(lever.name, v))

        with solara.Column(gap="0px", classes=classes):
            solara.Select(
                label, values=list(lever.choices), value=value, on_value=choose, disabled=disabled
            )
            if err:
                solara.Text(err, style={"color": "#b00020", "font-size": "0.8em"})
        return

    def commit(text: str) -> str | None:
        try:
            number = parse_lever(lever, text)
        except ZonesimInputError as exc:
            return str(exc)
        return on_value(lever.name, number)

    hint = lever.doc + (f" Range {lever.bounds}." if lever.bounds else "")
    NumberField(
        label,
        format_value(lever, value),
        commit,
        message=hint,
        disabled=disabled,
        classes=classes,
    )


@solara.component
def PolicyEditor(
    side: str,
    title: str,
    color: str,
    policy: PolicyConfig,
    presets: list[str],
    on_preset: Callable[[str], str | None],
    on_lever: Callable[[str, Any], str | None],
    note: str | None = None,
    error: str | None = None,
):
    """A policy: its preset, its description, and every lever, grouped, editable one by one."""
    preset = policy.name if policy.name in presets else None
    with solara.Card(
        title=f"{title}: {policy.name}",
        classes=[f"zonesim-policy-{side}"],
        style={"border-top": f"4px solid {color}"},
    ):
        solara.Select(
            "Preset",
            values=presets,
            value=preset,
            on_value=lambda name: name and on_preset(name),
        )
        solara.Text(policy.description or "", style={"font-size": "0.85em", "color": "#555"})
        with solara.Column(gap="4px"):  # always present: the fields below keep their state
            if error:
                solara.Error(error, dense=True, classes=[f"zonesim-error-{side}"])
            if note:
                solara.Warning(note, dense=True, classes=[f"zonesim-note-{side}"])
        for group, members in lever_groups():
            with solara.Details(group, expand=False):
                for lv in members:
                    LeverInput(lv, getattr(policy, lv.name), on_lever)
