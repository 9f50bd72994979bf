"""``zonesim calibrate --fit``: estimate flagged assumptions against the fitting targets.

The fit is a small adapter around Optuna (the ``fit`` extra; imported only here, so
``import zonesim`` stays light):

- **what** is fitted comes from a data file (``configs/fit/default.toml``, or your own): the
  flagged assumptions that drive the ranking, each with search bounds, plus the seeds, the
  trials and the horizon (:func:`load_spec` checks it all before anything runs);
- **against what**: the *fitting* targets of :mod:`zonesim.calibration` only. The loss of a
  trial is the mean over targets of ``(distance beyond the target / tolerance)**2``, the
  simulated value being the mean over the spec's seeds. Every trial runs on the same seeds
  (common random numbers), so the comparison between trials is not blurred by the seeds' luck;
  the seeds' own noise is kept per target (its standard error) and the loss's noise floor
  (what the noise alone adds to the loss) is reported next to it. The first trial is the
  defaults, so the fit never reports values worse than the model's own on the fit's seeds;
- **inputs are kept**: a fitted assumption can move a figure that sets a parameter (the case
  managers' hours per client move the caseload whose cap was set from the published range), so
  an input outside its tolerance adds its squared distance beyond the tolerance to the loss and
  makes the trial implausible; within its tolerance an input adds nothing (it is kept, not
  fitted);
- **plausible ranges**: a trial is *plausible* when every fitting target is met, allowing two
  standard errors of seed noise (``|mean - value| <= tolerance + 2 se``), as in history
  matching. A parameter the fitting targets constrain (its importance for the loss, Optuna's
  PED-ANOVA, at least the average share) gets the span of its values over the plausible
  trials; one they do not constrain keeps its whole search interval (``fitted.json``:
  ``search.<path>.constrained`` and ``importance``). Those ranges are what the studies'
  probabilistic sensitivity analysis draws from (:func:`read_fitted`);
- **hold-outs**: the fitted values run once more on confirmation seeds the search never saw;
  every target (inputs, fitting targets, hold-outs) is reported from those runs, by kind;
- **resumable**: the trials live in an Optuna journal file (``fit.journal``); rerunning the
  same command continues where it stopped (completed trials are never run again; a trial cut
  off by a kill is run again);
- **distributable**: each (trial, seed) run is submitted to one of zonesim's executors
  (:mod:`zonesim.executors`: this process, worker processes, a local Dask cluster, SLURM, a
  scheduler), ask-and-tell: the driver asks Optuna for trials while runs are in flight.

With more than one worker the order in which results come back moves the sampler's later
suggestions, so a parallel fit is reproducible in its evaluations (each run is a pure function
of the parameters and the seed), not in the sequence of trials.
"""

from __future__ import annotations

import json
import math
import os
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import ZonesimInputError

__all__ = [
    "FitResult",
    "FitSpec",
    "fit",
    "fitted_values",
    "load_spec",
    "read_fitted",
    "trial_loss",
]

JOURNAL = "fit.journal"
STUDY_NAME = "zonesim-fit"
NOISE_SE = 2.0  # standard errors of seed noise a plausible trial may miss a target by
_SPEC_KEYS = (
    "description",
    "trials",
    "startup_trials",
    "seeds",
    "confirm_seeds",
    "years",
    "warmup_days",
    "sampler_seed",
    "population",
)


def _optuna():
    """Import Optuna, or say how to get it."""
    try:
        import optuna
    except ImportError:  # pragma: no cover - installed wherever the tests run
        raise ZonesimInputError(
            "the fit needs Optuna: pip install 'zonesim[fit]'",
            source="<environment>",
            field="optuna",
        ) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


# ---------------------------------------------------------------------------------------------
# The spec: what is fitted, within which bounds, on which seeds
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FitSpec:
    """A checked fit specification (:func:`load_spec`).

    parameters: ``{path: (low, high)}`` search bounds (``path[i]`` for an element of a list);
    defaults: the parameters' values before the fit; targets: the fitting targets (default: the
    calibration's ``fit`` kind); seeds: every trial's seeds; confirm_seeds: the fitted values'
    confirmation seeds; trials: how many trials the fit completes in all (a rerun adds what is
    missing); startup_trials: random trials before TPE.
    """

    parameters: dict[str, tuple[float, float]]
    defaults: dict[str, float]
    seeds: tuple[int, ...] = (2020, 2021, 2022)
    confirm_seeds: tuple[int, ...] = (3101, 3102, 3103, 3104)
    trials: int = 160
    startup_trials: int = 40
    years: float = 1.0
    warmup_days: int = 180
    population: int | None = None
    sampler_seed: int = 18
    description: str = ""
    source: str = "<spec>"
    targets: tuple = field(default=(), repr=False)

    def fitting_targets(self):
        from .calibration import FIT, targets_of

        return self.targets or targets_of(FIT)

    def kept_targets(self):
        """The inputs: figures that set a parameter, which a fit must leave within their
        tolerance (a fitted assumption may move one, e.g. the case managers' hours per client
        move the caseload the cap was set from). None when the spec names its own targets."""
        from .calibration import INPUT, targets_of

        return () if self.targets else targets_of(INPUT)

    def key(self) -> dict[str, Any]:
        """What makes two fits the same fit (a journal is resumed only under the same key)."""
        return {
            "parameters": {k: list(v) for k, v in sorted(self.parameters.items())},
            "seeds": list(self.seeds),
            "years": self.years,
            "warmup_days": self.warmup_days,
            "population": self.population,
            "sampler_seed": self.sampler_seed,
            "startup_trials": self.startup_trials,
            "targets": [(t.metric, t.value, t.tolerance, t.sense) for t in self.fitting_targets()],
            "kept": [(t.metric, t.value, t.tolerance, t.sense) for t in self.kept_targets()],
        }


def _bad(expected: str, source: str, key: str, value: Any = None, show: bool = True):
    return ZonesimInputError(expected, source=source, field=key, value=value, show_value=show)


def _int_list(v: Any, source: str, key: str) -> tuple[int, ...]:
    ok = (
        isinstance(v, list) and v and all(isinstance(x, int) and not isinstance(x, bool) for x in v)
    )
    if not ok or len(set(v)) != len(v) or min(v) < 0:
        raise _bad("expected a list of distinct non-negative integer seeds", source, key, v)
    return tuple(v)


def load_spec(path: str | Path | None = None, **overrides: Any) -> FitSpec:
    """Read and check a fit file (default: the built-in ``configs/fit/default.toml``).

    ``overrides`` replace ``[fit]`` settings (``trials``, ``seeds``, ``population`` ...; None
    leaves a setting alone). Every parameter must be a numeric parameter of the schema (an
    element ``[i]`` of a list), its search bounds ``[low, high]`` within its valid range; a
    bad entry raises :class:`ZonesimInputError` naming the file and the key."""
    from .config import builtin_path, iter_parameters

    if path is None or (isinstance(path, str) and not path.endswith(".toml") and "/" not in path):
        name = "default" if path is None else path
        p = builtin_path("fit", name)
        if not p.exists():
            raise _bad(
                "unknown fit; expected a .toml file or 'default'", "<argument>", "--fit", name
            )
    else:
        p = Path(path)
    source = str(p)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _bad("no such file", "<argument>", "--fit", str(p)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise _bad(f"not valid TOML ({exc})", source, "fit", None, False) from None
    for k in data:
        if k not in ("fit", "parameters"):
            raise _bad("unknown table; expected [fit] and [parameters]", source, k, None, False)
    settings = dict(data.get("fit", {}))
    for k in settings:
        if k not in _SPEC_KEYS:
            import difflib

            hint = difflib.get_close_matches(k, _SPEC_KEYS, n=1)
            extra = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise _bad(f"unknown setting{extra}", source, f"fit.{k}", None, False)
    settings.update({k: v for k, v in overrides.items() if v is not None})
    kw: dict[str, Any] = {"source": source}
    for k in ("trials", "startup_trials", "warmup_days", "sampler_seed", "population"):
        if k in settings:
            v = settings[k]
            low = 1 if k in ("trials", "population") else 0
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise _bad(f"expected an integer >= {low}", source, f"fit.{k}", v)
            kw[k] = v
    if "years" in settings:
        v = settings["years"]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 100:
            raise _bad("expected a positive number of years (at most 100)", source, "fit.years", v)
        kw["years"] = float(v)
    for k in ("seeds", "confirm_seeds"):
        if k in settings:
            kw[k] = _int_list(settings[k], source, f"fit.{k}")
    if "description" in settings:
        kw["description"] = str(settings["description"])

    params = data.get("parameters")
    if not isinstance(params, Mapping) or not params:
        raise _bad(
            "expected a [parameters] table naming what to fit", source, "parameters", None, False
        )
    from .runs.psa import _parse_uncertain

    catalog = {path: v for path, _, v in iter_parameters()}
    bounds: dict[str, tuple[float, float]] = {}
    defaults: dict[str, float] = {}
    for key, b in _flat(params).items():
        # the same checks as a study's [psa.parameters] (a known numeric parameter, an element
        # [i] of a list, bounds [low, high] within its valid range), named as in this file
        try:
            u = _parse_uncertain(key, {"dist": "uniform", "bounds": b}, source)
        except ZonesimInputError as exc:
            where = str(exc.field).replace(f"psa.parameters.{key}", key)
            raise _bad(exc.expected, source, where, exc.value, exc.value is not None) from None
        if u.integer:
            raise _bad(
                "integer parameters are not fitted (a continuous search)", source, key, None, False
            )
        base, idx = _split_key(key)
        default = catalog[base] if idx is None else catalog[base][idx]
        bounds[key] = tuple(dict(u.args)["bounds"])
        defaults[key] = float(default)
    spec = FitSpec(parameters=bounds, defaults=defaults, **kw)
    if spec.startup_trials > spec.trials:
        spec = replace(spec, startup_trials=spec.trials)
    return spec


def _flat(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, Mapping):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _split_key(key: str) -> tuple[str, int | None]:
    if key.endswith("]") and "[" in key:
        base, idx = key[:-1].split("[", 1)
        if idx.isdigit():
            return base, int(idx)
    return key, None


# ---------------------------------------------------------------------------------------------
# One run, and the loss
# ---------------------------------------------------------------------------------------------


def _configure(base: Any, values: Mapping[str, float]):
    """``base`` with the trial's values set (list elements inside their list)."""
    from .config import apply_overrides
    from .runs.psa import as_overrides

    return apply_overrides(base, as_overrides(dict(values), base)) if values else base


def evaluate(
    base: Any,
    values: Mapping[str, float],
    seed: int,
    years: float,
    warmup_days: int,
    population: int | None,
) -> dict[str, float]:
    """One run at ``values`` and ``seed``: ``{metric: simulated}`` for every calibration
    target. Module-level and pure, so that executors can send it to any worker."""
    from .calibration import simulate_targets

    cfg = _configure(base, values)
    return simulate_targets(
        cfg, seed=seed, years=years, population=population, warmup_days=warmup_days
    )


def _distance(t, mean: float) -> float:
    """How far ``mean`` is beyond the target, in tolerances (0 within a one-sided bound)."""
    if not math.isfinite(mean):
        return math.inf
    scale = t.tolerance if t.tolerance > 0 else max(abs(t.value) * 0.1, 1e-9)
    if t.sense == ">=":
        return max(0.0, (t.value - t.tolerance) - mean) / scale
    if t.sense == "<=":
        return max(0.0, mean - (t.value + t.tolerance)) / scale
    return (mean - t.value) / scale


def summarise(per_seed: Sequence[Mapping[str, float]]) -> dict[str, tuple[float, float]]:
    """``{metric: (mean, standard error)}`` over seeds."""
    import numpy as np

    out = {}
    for m in per_seed[0]:
        x = np.array([r[m] for r in per_seed], dtype=float)
        se = float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else 0.0
        out[m] = (float(x.mean()), se)
    return out


def trial_loss(targets, stats: Mapping[str, tuple[float, float]], kept=()) -> dict[str, Any]:
    """The loss of one trial from its per-metric ``(mean, se)`` over seeds.

    loss: the mean over ``targets`` of the squared distance beyond each target in tolerances,
    plus, for each of the ``kept`` targets (the inputs), the squared distance by which it
    leaves its tolerance (0 while within: an input is kept, not fitted);
    noise_floor: what the seeds' noise alone adds to it on average (the mean of
    ``(se / tolerance)**2``); plausible: every target, kept ones included, met within its
    tolerance plus ``NOISE_SE`` standard errors."""
    d2, noise, plausible = [], [], True
    penalty = 0.0
    for t in kept:
        mean, se = stats[t.metric]
        scale = t.tolerance if t.tolerance > 0 else max(abs(t.value) * 0.1, 1e-9)
        if not t.check(mean):
            beyond = abs(_distance(t, mean)) - (1.0 if t.sense == "=" else 0.0)
            penalty += max(beyond, 0.0) ** 2
        plausible &= bool(replace(t, tolerance=t.tolerance + NOISE_SE * se).check(mean))
    for t in targets:
        mean, se = stats[t.metric]
        d = _distance(t, mean)
        d2.append(d * d)
        scale = t.tolerance if t.tolerance > 0 else max(abs(t.value) * 0.1, 1e-9)
        noise.append((se / scale) ** 2)
        slack = NOISE_SE * se
        shifted = replace(t, tolerance=t.tolerance + slack)
        plausible &= bool(shifted.check(mean))
    loss = float(sum(d2) / len(d2)) + penalty
    return {
        "loss": loss if math.isfinite(loss) else math.inf,
        "noise_floor": float(sum(noise) / len(noise)),
        "plausible": plausible,
    }


# ---------------------------------------------------------------------------------------------
# The fit
# ---------------------------------------------------------------------------------------------


@dataclass
class FitResult:
    """What :func:`fit` leaves in its folder, also in memory.

    best: the fitted values; loss (the best trial's, on the fit's seeds); ranges: the plausible
    range per parameter; targets: one row per calibration target at the fitted values on the
    confirmation seeds (DataFrame: kind, metric, target, simulated, se, within ...); trials: one
    row per completed trial; evaluated: the trial runs this call made (a resumed fit makes only
    the missing ones); confirm_runs: the confirmation runs it made (0 when the best trial did not
    change since the last call); seconds: this call's wall time."""

    folder: Path
    best: dict[str, float]
    loss: float
    noise_floor: float
    ranges: dict[str, tuple[float, float]]
    constrained: dict[str, bool]
    n_plausible: int
    targets: Any
    trials: Any
    evaluated: int
    seconds: float
    confirm_runs: int = 0


def _storage(folder: Path):
    optuna = _optuna()
    from optuna.storages.journal import JournalFileBackend

    return optuna.storages.JournalStorage(JournalFileBackend(str(folder / JOURNAL)))


def _distributions(spec: FitSpec):
    optuna = _optuna()
    return {
        k: optuna.distributions.FloatDistribution(lo, hi) for k, (lo, hi) in spec.parameters.items()
    }


def _open_study(spec: FitSpec, folder: Path):
    """Create or resume the journal's study; refuse one made by another spec."""
    optuna = _optuna()
    sampler = optuna.samplers.TPESampler(
        n_startup_trials=spec.startup_trials, seed=spec.sampler_seed, multivariate=True
    )
    study = optuna.create_study(
        study_name=STUDY_NAME,
        storage=_storage(folder),
        direction="minimize",
        sampler=sampler,
        load_if_exists=True,
    )
    key = json.dumps(spec.key(), sort_keys=True)
    have = study.user_attrs.get("spec_key")
    if have is None:
        study.set_user_attr("spec_key", key)
    elif have != key:
        raise _bad(
            "this folder holds a fit of another specification (parameters, bounds, seeds, "
            "targets or horizon differ); give a new --out",
            str(folder),
            "fit.journal",
            None,
            False,
        )
    return study


def check_folder(spec: FitSpec, folder: str | Path) -> None:
    """Refuse (before anything starts) a folder whose journal holds another spec's fit."""
    folder = Path(folder)
    if (folder / JOURNAL).exists():
        _open_study(spec, folder)


def fit(
    spec: FitSpec | str | Path | None = None,
    *,
    out: str | Path = "results/fit/default",
    config: Any = None,
    executor: Any = "sequential",
    workers: int | None = None,
    progress: bool | Callable[[str], None] = False,
    max_minutes: float | None = None,
) -> FitResult:
    """Run (or resume) a fit and write its folder ``out``:

    ``fit.journal`` (the Optuna trials; rerunning continues it), ``trials.csv`` (every
    completed trial: values, loss, noise floor, plausible, each fitting target's seed mean),
    ``fitted.json`` (the fitted values and plausible ranges, readable as PSA ranges,
    :func:`read_fitted`), ``targets.csv`` (every calibration target at the fitted values on the
    confirmation seeds, by kind, next to the defaults on the same seeds) and ``confirm.json``
    (those runs, reused by a rerun).

    ``config``: the base configuration (default: the built-in default zone); ``executor``: a
    kind, profile or :class:`~zonesim.executors.ExecutorSpec` (:mod:`zonesim.executors`);
    ``progress``: a bar on stderr (True) or a callable given one line per completed trial;
    ``max_minutes``: ask no new trial after this many minutes (the trials in flight finish and
    everything is written; rerun to go on).
    """
    import concurrent.futures as cf

    from .config import load_config
    from .executors import open_executor, resolve_executor
    from .runs.simulate import warm_up

    if not isinstance(spec, FitSpec):
        spec = load_spec(spec)
    base = config if config is not None else load_config()
    folder = Path(out)
    ex_spec = resolve_executor(executor, workers=workers)
    optuna = _optuna()
    folder.mkdir(parents=True, exist_ok=True)
    study = _open_study(spec, folder)
    t0 = time.perf_counter()
    targets = spec.fitting_targets()
    kept = spec.kept_targets()
    dists = _distributions(spec)

    # A trial cut off by a kill (asked, never told) is failed and asked again with its values.
    for tr in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        study.tell(tr.number, state=optuna.trial.TrialState.FAIL)
        study.enqueue_trial(tr.params, skip_if_exists=False)
    if not study.get_trials(deepcopy=False):
        # the first trial is the defaults (within the bounds): the fit starts from the model's
        # hand-tuned values and can only report a best as good as theirs on the fit's seeds
        study.enqueue_trial(
            {k: min(max(spec.defaults[k], lo), hi) for k, (lo, hi) in spec.parameters.items()}
        )
    done = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))
    todo = max(0, spec.trials - done)
    evaluated = 0
    bar = _progress(progress, spec.trials, done)
    run_args = (spec.years, spec.warmup_days, spec.population)

    with open_executor(ex_spec, warm=None if ex_spec.kind == "sequential" else warm_up) as handle:
        # enough runs in flight to keep every worker busy across trial boundaries
        n = len(spec.seeds)
        window = max(n, handle.window) if handle.capacity <= 1 else max(handle.window, 2 * n)
        pending: dict[Any, tuple[int, int]] = {}
        open_trials: dict[int, Any] = {}
        got: dict[int, dict[int, dict[str, float]]] = {}
        asked = 0
        deadline = None if max_minutes is None else t0 + 60.0 * max_minutes
        try:
            while pending or (
                asked < todo and (deadline is None or time.perf_counter() < deadline)
            ):
                while (
                    asked < todo
                    and len(pending) + len(spec.seeds) <= window
                    and (deadline is None or time.perf_counter() < deadline)
                ):
                    trial = study.ask(dists)
                    asked += 1
                    open_trials[trial.number] = trial
                    got[trial.number] = {}
                    for i, seed in enumerate(spec.seeds):
                        fut = handle.executor.submit(
                            evaluate, base, dict(trial.params), seed, *run_args
                        )
                        pending[fut] = (trial.number, i)
                    if not pending:  # pragma: no cover - a spec always has seeds
                        break
                finished, _ = cf.wait(list(pending), return_when=cf.FIRST_COMPLETED)
                for fut in finished:
                    number, i = pending.pop(fut)
                    if number not in open_trials:
                        continue  # its trial already failed on another seed
                    exc = fut.exception()
                    if exc is not None:
                        study.tell(open_trials.pop(number), state=optuna.trial.TrialState.FAIL)
                        bar(f"trial {number} failed: {exc}", None)
                        continue
                    got[number][i] = fut.result()
                    evaluated += 1
                    if len(got[number]) < len(spec.seeds):
                        continue
                    trial = open_trials.pop(number)
                    runs = got.pop(number)
                    per_seed = [runs[j] for j in range(len(spec.seeds))]
                    stats = summarise(per_seed)
                    score = trial_loss(targets, stats, kept)
                    trial.set_user_attr("noise_floor", score["noise_floor"])
                    trial.set_user_attr("plausible", score["plausible"])
                    trial.set_user_attr("mean", {m: v[0] for m, v in stats.items()})
                    trial.set_user_attr("se", {m: v[1] for m, v in stats.items()})
                    study.tell(trial, score["loss"])
                    bar(f"trial {number}: loss {score['loss']:.3g}", study)
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise
        finally:
            bar.close()

        best = study.best_trial
        confirm = _confirm(spec, folder, base, best, handle.executor, run_args)
    res = _write(spec, folder, study, best, confirm, evaluated, time.perf_counter() - t0)
    res.confirm_runs = confirm.pop("_evaluated", 0)
    return res


def _confirm(spec, folder: Path, base, best, executor, run_args) -> dict[str, Any]:
    """The best trial's values, and the defaults for comparison, on the confirmation seeds
    (kept in confirm.json: a rerun whose best trial did not change reuses them)."""
    path = folder / "confirm.json"
    values = dict(best.params)
    seeds = list(spec.confirm_seeds)
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        if old.get("values") == values and old.get("seeds") == seeds and "default_runs" in old:
            return old
    futs = [executor.submit(evaluate, base, values, s, *run_args) for s in seeds]
    futs += [executor.submit(evaluate, base, {}, s, *run_args) for s in seeds]
    runs = [f.result() for f in futs]
    n = len(seeds)
    out = {
        "trial": best.number,
        "values": values,
        "seeds": seeds,
        "runs": runs[:n],
        "default_runs": runs[n:],
    }
    _atomic_write(path, json.dumps(out, indent=1))
    return {**out, "_evaluated": len(runs)}


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _progress(progress, total: int, done: int):
    """A callable ``(line, study)`` with ``close()``: a tqdm bar, a line sink or nothing."""

    class _Bar:
        def __init__(self):
            self.bar = None
            if progress is True:
                from tqdm.auto import tqdm

                self.bar = tqdm(total=total, initial=done, desc="fit", unit="trial")

        def __call__(self, line: str, study) -> None:
            if self.bar is not None:
                if study is not None:
                    self.bar.update(1)
                    self.bar.set_postfix_str(f"best loss {study.best_value:.3g}")
                else:
                    self.bar.write(line)
            elif callable(progress):
                progress(line)

        def close(self) -> None:
            if self.bar is not None:
                self.bar.close()

    return _Bar()


def _importances(study, spec: FitSpec) -> dict[str, float]:
    """Each parameter's share of the loss's variation among the better trials (Optuna's
    PED-ANOVA importance; shares sum to 1)."""
    optuna = _optuna()
    evaluator = getattr(optuna.importance, "PedAnovaImportanceEvaluator", None)
    import warnings

    try:
        with warnings.catch_warnings():
            # "too small to compute importances": they come out equal, as they should
            warnings.simplefilter("ignore", UserWarning)
            imp = optuna.importance.get_param_importances(
                study, evaluator=evaluator() if evaluator else None
            )
    except (RuntimeError, ValueError):  # too few trials to tell
        return {k: math.nan for k in spec.parameters}
    return {k: float(imp.get(k, 0.0)) for k in spec.parameters}


def _ranges(spec: FitSpec, frame, best: Mapping[str, float], importance: Mapping[str, float]):
    """Plausible range per parameter.

    A parameter the fitting targets constrain (its importance for the loss at least the average
    share, 1 / number of parameters) keeps the span of its values over the plausible trials (or,
    when fewer than 5 trials are plausible, over the best tenth, said so). One they do not
    constrain keeps its whole search interval: the search concentrates its trials near the best
    values, so their span would look narrower than the figures say."""
    plaus = frame[frame["plausible"]]
    basis = "plausible trials (every fitting target met, 2 SE of seed noise allowed)"
    if len(plaus) < 5:
        k = max(5, len(frame) // 10)
        plaus = frame.nsmallest(k, "loss")
        basis = f"the best {len(plaus)} trials (fewer than 5 trials met every fitting target)"
    ranges, constrained = {}, {}
    d = len(spec.parameters)
    for k, (lo, hi) in spec.parameters.items():
        constrained[k] = bool(importance.get(k, 0.0) >= 1.0 / d)
        a, b = float(plaus[k].min()), float(plaus[k].max())
        a, b = min(a, best[k]), max(b, best[k])
        if not constrained[k] or not b > a:
            a, b = lo, hi
        ranges[k] = (a, b)
    return ranges, constrained, basis, int(frame["plausible"].sum())


def _write(spec, folder, study, best, confirm, evaluated, seconds) -> FitResult:
    import pandas as pd

    from . import __version__
    from .calibration import TARGETS, target_rows
    from .runs.fields import _git_info

    optuna = _optuna()
    rows = []
    fit_metrics = [t.metric for t in spec.fitting_targets()]
    for tr in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        row = {"trial": tr.number, "loss": tr.value, **tr.params}
        row["noise_floor"] = tr.user_attrs.get("noise_floor", math.nan)
        row["plausible"] = bool(tr.user_attrs.get("plausible", False))
        for m in fit_metrics:
            row[m] = tr.user_attrs.get("mean", {}).get(m, math.nan)
        rows.append(row)
    frame = pd.DataFrame(rows)
    best_values = dict(best.params)
    importance = _importances(study, spec)
    ranges, constrained, basis, n_plaus = _ranges(spec, frame, best_values, importance)

    stats = summarise(confirm["runs"])
    trows = target_rows({m: v[0] for m, v in stats.items()}, TARGETS)
    dstats = summarise(confirm["default_runs"])
    for r in trows:
        r["se"] = stats[r["metric"]][1]
        r["simulated_default"] = dstats[r["metric"]][0]
        r["within_default"] = bool(
            next(t for t in TARGETS if t.metric == r["metric"]).check(r["simulated_default"])
        )
    targets = pd.DataFrame(trows)
    fit_score = trial_loss(spec.fitting_targets(), stats, spec.kept_targets())

    provenance = {
        "spec": spec.source,
        "description": spec.description,
        "fitting_targets": fit_metrics,
        "seeds": list(spec.seeds),
        "confirm_seeds": list(spec.confirm_seeds),
        "years": spec.years,
        "warmup_days": spec.warmup_days,
        "population": spec.population,
        "trials": len(frame),
        "best_trial": best.number,
        "loss": best.value,
        "noise_floor": best.user_attrs.get("noise_floor"),
        "loss_confirm": fit_score["loss"],
        "loss_default_confirm": trial_loss(spec.fitting_targets(), dstats, spec.kept_targets())[
            "loss"
        ],
        "plausible_trials": n_plaus,
        "ranges_from": basis,
        "zonesim": __version__,
        "git": _git_info(),
        "optuna": optuna.__version__,
        "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds_this_call": round(seconds, 1),
        "cores": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    fitted = {
        "parameters": {
            k: {"value": best_values[k], "dist": "uniform", "bounds": list(ranges[k])}
            for k in spec.parameters
        },
        "search": {
            k: {
                "bounds": list(spec.parameters[k]),
                "default": spec.defaults[k],
                "constrained": constrained[k],
                "importance": importance[k],
            }
            for k in spec.parameters
        },
        "provenance": provenance,
    }
    _atomic_write(folder / "fitted.json", json.dumps(fitted, indent=1))
    frame.to_csv(folder / "trials.csv.tmp", index=False)
    os.replace(folder / "trials.csv.tmp", folder / "trials.csv")
    targets.to_csv(folder / "targets.csv.tmp", index=False)
    os.replace(folder / "targets.csv.tmp", folder / "targets.csv")
    return FitResult(
        folder=folder,
        best=best_values,
        loss=float(best.value),
        noise_floor=float(best.user_attrs.get("noise_floor", math.nan)),
        ranges=ranges,
        constrained=constrained,
        n_plausible=n_plaus,
        targets=targets,
        trials=frame,
        evaluated=evaluated,
        seconds=seconds,
    )


# ---------------------------------------------------------------------------------------------
# Reading a fit back
# ---------------------------------------------------------------------------------------------


def _read(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if p.is_dir():
        p = p / "fitted.json"
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _bad("no such file", "<argument>", "fitted.json", str(p)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _bad(f"not valid JSON ({exc})", str(p), "fitted.json", None, False) from None
    if not isinstance(data, dict) or not isinstance(data.get("parameters"), dict):
        raise _bad("expected a fitted.json with a 'parameters' table", str(p), "parameters")
    return data


def read_fitted(path: str | Path, *, assumptions: bool = True):
    """A fit's plausible ranges as a :class:`zonesim.runs.psa.PSA` (enabled): each fitted
    parameter drawn uniformly over its range; other flagged assumptions keep their own range
    (``assumptions=False``: only the fitted ones). ``path``: fitted.json or its folder; read
    and checked by :func:`zonesim.runs.psa.read_ranges` (what ``compare --psa-ranges`` uses)."""
    from .runs.psa import PSA, read_ranges

    ranges = tuple(read_ranges(path, "<argument>", "fitted.json"))
    return PSA(enabled=True, assumptions=assumptions, parameters=ranges)


def fitted_values(path: str | Path) -> dict[str, float]:
    """The fitted point values ``{path: value}`` (list elements as ``path[i]``; apply them with
    :func:`zonesim.runs.psa.as_overrides`)."""
    data = _read(path)
    return {k: float(v["value"]) for k, v in data["parameters"].items()}
