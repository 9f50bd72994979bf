"""``zonesim run``: simulate one zone under one policy and print its scorecard."""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings

from .. import validation as V
from ..config import WARMUP_DAYS
from ..errors import ZonesimInputError
from . import add_config_options


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "run",
        help="simulate a zone under one policy and print its scorecard",
        description="Simulate a zone under one policy and print the Quadruple Aim and equity "
        "scorecard. Overrides (-o) starting with 'policy.' set policy levers, "
        "the others configuration values.",
    )
    add_config_options(p)
    p.add_argument(
        "--policy",
        "-p",
        metavar="NAME|FILE",
        default="status_quo",
        help="policy preset (see `zonesim policies`) or a policy TOML (default: status_quo)",
    )
    p.add_argument(
        "--population",
        "-n",
        type=int,
        metavar="N",
        default=None,
        help="inhabitants of the zone (overrides zone.population)",
    )
    p.add_argument(
        "--years",
        "-y",
        type=float,
        metavar="Y",
        default=None,
        help="measured years after the warm-up (default: the scenario's)",
    )
    p.add_argument(
        "--warmup-days",
        type=int,
        metavar="D",
        default=None,
        help=f"days simulated before measurement starts (default: {WARMUP_DAYS}, as compare "
        "and sweeps)",
    )
    p.add_argument(
        "--warmup-policy",
        metavar="P",
        default=None,
        help="the policy of the warm-up; the run's policy takes over at its end "
        "(default: status_quo, as compare and sweeps)",
    )
    p.add_argument(
        "--seed",
        "-s",
        type=int,
        metavar="S",
        default=None,
        help="random seed (default: a fresh one, shown in the table's header)",
    )
    p.add_argument(
        "--format",
        "-f",
        choices=["table", "json"],
        default="table",
        help="output format (default: table)",
    )
    p.add_argument(
        "--save-checkpoint",
        metavar="FILE",
        default=None,
        help="save the model at the end to FILE (.npz): a state to branch policies from "
        "(zonesim compare --from-checkpoint FILE, ZoneModel.load)",
    )
    p.add_argument(
        "--from-checkpoint",
        metavar="FILE",
        default=None,
        help="start from a saved model (its zone, scenario and day) and branch --policy from "
        "it; --seed then drives what happens after it (default: the saved model's)",
    )
    p.set_defaults(func=run)


def _split_overrides(overrides: list[str]) -> tuple[list[str], list[str]]:
    from ..config import parse_override

    config_ov, policy_ov = [], []
    for text in overrides:
        key, _ = parse_override(text)
        (policy_ov if key.startswith("policy.") else config_ov).append(text)
    return config_ov, policy_ov


def run(args: argparse.Namespace) -> int:
    from ..config import load_config, load_policy
    from ..model import DAYS_PER_YEAR, ZoneModel, month_end_day

    config_ov, policy_ov = _split_overrides(args.override)
    config = load_config(args.config, config_ov, scenario=args.scenario)
    policy = load_policy(args.policy, policy_ov)
    warmup_policy = None
    if args.warmup_policy is not None:
        try:
            warmup_policy = load_policy(args.warmup_policy)
        except ZonesimInputError as exc:
            raise ZonesimInputError(
                exc.expected, source="<argument>", field="--warmup-policy", value=args.warmup_policy
            ) from None
    years = config.scenario.years if args.years is None else args.years
    if not (math.isfinite(years) and years > 0):
        raise ZonesimInputError(
            "expected a positive number of years", source="<argument>", field="--years", value=years
        )
    if args.warmup_days is not None:
        V.check_int(
            args.warmup_days,
            field="--warmup-days",
            lo=0,
            hi=36_500,
            expected="expected a number of days from 0 to 36500",
        )
    if args.seed is not None and args.seed < 0:
        raise ZonesimInputError(
            "expected a seed >= 0", source="<argument>", field="--seed", value=args.seed
        )

    if args.save_checkpoint is not None:
        _check_writable(args.save_checkpoint)
    start = None
    if args.from_checkpoint is not None:
        for option, value in (("--population", args.population), ("--config", args.config)):
            if value is not None:
                raise ZonesimInputError(
                    "the zone comes from the checkpoint (leave it out with --from-checkpoint)",
                    source="<argument>",
                    field=option,
                    value=value,
                )
        start = ZoneModel.load(args.from_checkpoint, agents=True)

    # The model's warnings (capacity overflows, levers not built yet) become one line each.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if start is None:
            model = ZoneModel(
                config,
                policy=policy,
                population=args.population,
                rng=args.seed,
                years=years,
                warmup_days=args.warmup_days,
                warmup_policy=warmup_policy,
            )
        else:
            model = start.branch(policy, rng=args.seed)
            model.reset_measurement()
        days = round(years * DAYS_PER_YEAR)
        if years > 1:
            _run_with_progress(model, days, month_end_day)
        else:
            model.run_for(days)
        card = model.scorecard()
    for message in dict.fromkeys(str(w.message) for w in caught):
        print(f"zonesim: warning: {message}", file=sys.stderr)
    if args.save_checkpoint is not None:
        path = model.save(args.save_checkpoint)
        print(f"zonesim: checkpoint of day {model.day} saved to {path}", file=sys.stderr)

    if args.format == "json":
        json.dump(_jsonable(card), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        warm_name = "status_quo" if warmup_policy is None else warmup_policy.name
        if start is not None:
            warm_name = "from the checkpoint"
        header = (
            f"zone: {', '.join(model.zone_names)}  policy: {policy.name}  "
            f"inhabitants: {model.layout.n_patients_initial:,}  years: {years:g} measured "
            f"after {model.warmup_days} days of warm-up ({warm_name})  seed: {model.seed}"
        )
        sys.stdout.write(header + "\n\n" + format_table(card))
    return 0


def _check_writable(path: str) -> None:
    """A checkpoint can be written there (checked before the run)."""
    import os
    from pathlib import Path

    p = Path(path)
    parent = p.absolute().parent
    if p.is_dir() or not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise ZonesimInputError(
            "expected a file path in an existing, writable folder",
            source="<argument>",
            field="--save-checkpoint",
            value=path,
        )


def _run_with_progress(model, days: int, month_end_day) -> None:
    from tqdm import tqdm

    months = []
    m = 1
    while month_end_day(m) < days:
        months.append(month_end_day(m))
        m += 1
    months.append(days)
    start = model.time  # a model loaded from a checkpoint starts later than 0
    with tqdm(
        total=len(months),
        unit="month",
        desc="simulating",
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
        leave=False,
    ) as bar:
        for end in months:
            model.run_until(start + end)
            bar.update(1)


def _json_value(v):
    if v is None or isinstance(v, (str, bool)):
        return v
    v = float(v)
    return v if math.isfinite(v) else None


def _jsonable(card: dict) -> dict:
    """Sections as plain dicts; NaN and infinities (not JSON) become null."""
    return {
        section: {k: _json_value(v) for k, v in metrics.items()}
        for section, metrics in card.items()
    }


def format_value(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    v = float(v)
    if math.isnan(v):
        return "n/a"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v != 0 and abs(v) < 0.001:
        return f"{v:.3g}"
    if abs(v) >= 1000 or float(v).is_integer():
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:,.1f}"
    return f"{v:.3f}"


def format_table(card: dict) -> str:
    """Section headings, then ``metric  value`` lines with values right-aligned."""
    rows = [(k, format_value(v)) for m in card.values() for k, v in m.items()]
    kw = max((len(k) for k, _ in rows), default=0)
    vw = max((len(v) for _, v in rows), default=0)
    lines = []
    for section, metrics in card.items():
        lines.append(section.replace("_", " "))
        for k, v in metrics.items():
            lines.append(f"  {k:<{kw}}  {format_value(v):>{vw}}")
        lines.append("")
    return "\n".join(lines)
