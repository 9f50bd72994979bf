"""Checkpoints: save a model's whole state to one file, load it, and branch policies from it.

A checkpoint is one ``.npz`` file (numpy's zip of ``.npy`` arrays) holding

* every array of the model's :class:`~zonesim.core.state.State`, named by its path in the state
  (``state/pat/need``, ``state/zone``...), found by walking the state's namedtuples field by
  field, so that a field added to the state is saved without touching this module; and the
  compiled parameters (``prm``, ``tables/...``), which an adaptive care council changes;
* the measurement window (``acc_start``, the month-end snapshots);
* ``meta.json``: the format and its version, the provenance (zonesim version, git commit,
  creation time), the resolved configuration and policies, the seed, the horizon the
  population was laid out for, the day and the model time, and the care councils' memory.

It loads with ``allow_pickle=False``: a checkpoint holds numbers and JSON, never code, so a
file from elsewhere cannot run anything when loaded. Loading rebuilds the model from the saved
configuration, policies and seed (the same layout as the saved one), then overwrites every array
with the saved one. Records (the zone, accumulator and parameter records) are matched field by
field by name, so a checkpoint whose records list the same fields in another order loads (the
order changes when an accumulator or parameter moves beside its process); any other difference
in the set of arrays or fields, a shape or a dtype (a checkpoint of another state layout) is
refused with one line naming the file.

Branching (:func:`branch`) starts a new model under another policy from a model's current
state: the population, its health, care situations, queues, waiting lists, the GPs and every
other provider the new policy also has keep their state; what the new policy adds starts as it
would at day 0 of a run under that policy (new staff, with no strain yet). See :func:`branch`.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import math
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ZonesimInputError

__all__ = ["FORMAT", "FORMAT_VERSION", "branch", "load", "read_metadata", "save", "state_arrays"]

FORMAT = "zonesim-checkpoint"
FORMAT_VERSION = 1
_META = "meta.json"


# ---------------------------------------------------------------------------------------------
# Walking the state
# ---------------------------------------------------------------------------------------------


def state_arrays(obj: Any, prefix: str = "state") -> dict[str, np.ndarray]:
    """Every array of a state, by path: namedtuples are walked field by field (any depth)."""
    if isinstance(obj, np.ndarray):
        return {prefix: obj}
    fields = getattr(obj, "_fields", None)
    if fields is None:
        raise TypeError(f"{prefix}: expected an array or a namedtuple, got {type(obj).__name__}")
    out: dict[str, np.ndarray] = {}
    for name in fields:
        out.update(state_arrays(getattr(obj, name), f"{prefix}/{name}"))
    return out


# ---------------------------------------------------------------------------------------------
# Save
# ---------------------------------------------------------------------------------------------


def _jsonable(v: Any) -> Any:
    """JSON for the councils' memory (dicts, lists, numpy scalars and arrays, NaN)."""
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.ndarray):
        return {"__array__": v.tolist(), "dtype": str(v.dtype)}
    if isinstance(v, np.generic):
        return v.item()
    return v


def _unjson(v: Any) -> Any:
    if isinstance(v, dict):
        if "__array__" in v:
            return np.asarray(v["__array__"], dtype=v["dtype"])
        return {k: _unjson(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_unjson(x) for x in v]
    return v


def _council_memory(council) -> dict[str, Any]:
    mem: dict[str, Any] = {
        "indicators": council.indicators,
        "decisions": council.decisions,
        "last": council._last,
    }
    fc = getattr(council, "forecaster", None)
    if fc is not None:  # an adaptive council's forecast (zonesim.governance)
        mem["forecaster"] = {
            "alpha": fc.alpha,
            "beta": fc.beta,
            "level": fc.level,
            "trend": fc.trend,
            "history": list(fc.history),
        }
        mem["cum_switch"] = council._cum_switch
        mem["gov_last"] = council._gov_last
    return _jsonable(mem)


def _provenance() -> dict[str, Any]:
    from . import __version__
    from .runs.fields import _git_info

    git = _git_info() or {}
    return {
        "zonesim_version": __version__,
        "git_commit": git.get("commit"),
        "git_dirty": git.get("dirty"),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }


def metadata(model, **extra: Any) -> dict[str, Any]:
    """What a checkpoint of ``model`` records besides its arrays (JSON)."""
    from .config import to_dict

    if getattr(model, "_zones", None) is not None:
        raise ZonesimInputError(
            "checkpoints hold a single zone (a Region cannot be saved yet)",
            source="<argument>",
            field="model",
            value=type(model).__name__,
        )
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        **_provenance(),
        "model": type(model).__name__,
        "config": to_dict(model.config),
        "policies": [to_dict(p) for p in model.policies],
        "seed": int(model.seed),
        "years_planned": float(model.years_planned),
        "years": float(model.years),
        "warmup_days": int(model.warmup_days),
        "horizon_days": int(model.horizon_days),
        "running": bool(model.running),
        "with_agents": bool(model.with_agents),
        "day": int(model.state.day[0]),
        "day0": int(model.day0),
        "time": float(model.time),
        "steps": int(model.steps),
        "measure_start_day": int(model.measure_start_day),
        "month_base": int(model._month_base),
        "month": int(model._month),
        "warned": sorted(model._warned),
        "overflow_seen": model._overflow_seen,
        "councils": [_council_memory(c) for c in model.councils],
        "snapshot_days": [int(d) for d, _ in model.snapshots],
        **extra,
    }


def save(model, path: str | Path, **extra: Any) -> Path:
    """Write ``model``'s checkpoint to ``path`` (``.npz`` added if missing), atomically (a
    temporary file renamed into place). ``extra``: more JSON-able metadata to record (e.g. the
    warm-up policy's label). Returns the path written."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    meta = metadata(model, **extra)
    arrays = dict(state_arrays(model.state))
    # the compiled parameters too: an adaptive council changes some of them as it goes
    arrays.update(state_arrays(model.prm, "prm"))
    arrays.update(state_arrays(model.tables, "tables"))
    arrays["acc_start"] = model.acc_start
    arrays["planned_fte"] = model.planned_fte
    if model.snapshots:
        arrays["snapshots"] = np.stack([a for _, a in model.snapshots])
    meta["arrays"] = sorted(arrays)
    text = json.dumps(meta, allow_nan=True, sort_keys=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
                zf.writestr(_META, text)
                for name, arr in arrays.items():
                    buf = io.BytesIO()
                    np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
                    zf.writestr(name + ".npy", buf.getvalue())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# ---------------------------------------------------------------------------------------------
# Load
# ---------------------------------------------------------------------------------------------


def _bad(path: Path, expected: str) -> ZonesimInputError:
    return ZonesimInputError(expected, source=str(path))


def _open(path: str | Path) -> tuple[Path, zipfile.ZipFile, dict[str, Any]]:
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise _bad(path, "file not found") from None
    except IsADirectoryError:
        raise _bad(path, "expected a checkpoint file, found a folder") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise _bad(path, f"not a zonesim checkpoint ({exc})") from None
    try:
        meta = json.loads(zf.read(_META))
    except (KeyError, ValueError):
        zf.close()
        raise _bad(path, "not a zonesim checkpoint (no meta.json)") from None
    if meta.get("format") != FORMAT:
        zf.close()
        raise _bad(path, "not a zonesim checkpoint")
    if meta.get("format_version") != FORMAT_VERSION:
        zf.close()
        raise _bad(
            path,
            f"checkpoint format version {meta.get('format_version')} (this zonesim reads "
            f"{FORMAT_VERSION})",
        )
    return path, zf, meta


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The JSON metadata of a checkpoint (provenance, configuration, policies, seed, day)."""
    _, zf, meta = _open(path)
    zf.close()
    return meta


def _read_array(zf: zipfile.ZipFile, name: str, path: Path) -> np.ndarray:
    try:
        with zf.open(name + ".npy") as fh:
            return np.lib.format.read_array(io.BytesIO(fh.read()), allow_pickle=False)
    except KeyError:
        raise _bad(path, f"checkpoint has no array {name!r}") from None
    except ValueError as exc:  # an object array (pickle) is refused here
        raise _bad(path, f"array {name!r} cannot be loaded safely ({exc})") from None


def load(path: str | Path, *, agents: bool | None = None, cls: type | None = None):
    """The model saved in ``path``, ready to run on from its day.

    ``agents``: create the Mesa agents (default: as saved). ``cls``: the model class (default
    :class:`~zonesim.model.ZoneModel`).
    """
    from .config import Config, from_dict, load_policy

    path, zf, meta = _open(path)
    with zf:
        if cls is None:
            from .model import ZoneModel as cls
        try:
            config = from_dict(Config, meta["config"], source=str(path))
            policies = [load_policy(p) for p in meta["policies"]]
        except ZonesimInputError as exc:
            raise _bad(path, f"its configuration does not load here: {exc}") from None
        # the same layout as the saved model's (laid out for its warm-up plus horizon), built
        # without simulating anything: the saved arrays replace the state
        model = cls(
            config,
            policy=policies,
            rng=meta["seed"],
            years=meta["years_planned"],
            warmup_days=0,
            agents=meta["with_agents"] if agents is None else agents,
        )
        arrays = {name: _read_array(zf, name, path) for name in meta["arrays"]}
    restore(model, arrays, meta, source=path)
    return model


def _as_layout(src: np.ndarray, dtype: np.dtype, name: str, source: Any, made_by: str):
    """``src`` (a copy) with ``dtype``. A record (the zone, accumulator and parameter records) is
    matched field by field by name, so a checkpoint whose records list the same fields in
    another order (e.g. before an accumulator moved beside its process) still loads; any other
    difference (a field missing or unknown, another dtype) is one clear line."""
    if src.dtype == dtype:
        return src.copy()
    if src.dtype.names is not None and dtype.names is not None:
        missing = sorted(set(dtype.names) - set(src.dtype.names))
        extra = sorted(set(src.dtype.names) - set(dtype.names))
        other = [f for f in dtype.names if f in src.dtype.fields and src.dtype[f] != dtype[f]]
        if not (missing or extra or other):
            out = np.empty(src.shape, dtype)
            for f in dtype.names:
                out[f] = src[f]
            return out
        raise _bad(
            Path(str(source)),
            f"the checkpoint's record {name} has other fields ({made_by}; missing "
            f"{missing[:3]}, unknown {extra[:3]}, another dtype {other[:3]})",
        )
    raise _bad(
        Path(str(source)),
        f"the checkpoint's {name} is {src.dtype}{list(src.shape)}, this model's "
        f"{dtype} ({made_by})",
    )


def restore(model, arrays: dict[str, np.ndarray], meta: dict[str, Any], source: Any) -> None:
    """Overwrite a freshly built ``model`` (same configuration, policies, seed and horizon)
    with saved arrays and metadata."""
    target = {
        **state_arrays(model.state),
        **state_arrays(model.prm, "prm"),
        **state_arrays(model.tables, "tables"),
    }
    saved = {k: v for k, v in arrays.items() if k.startswith(("state/", "prm", "tables/"))}
    if set(saved) != set(target):
        missing = sorted(set(target) - set(saved))
        extra = sorted(set(saved) - set(target))
        raise _bad(
            Path(str(source)),
            "the checkpoint's state has another layout (made by zonesim "
            f"{meta.get('zonesim_version')}; missing {missing[:3]}, unknown {extra[:3]})",
        )
    made_by = f"made by zonesim {meta.get('zonesim_version')}"
    for name, dst in target.items():
        src = _as_layout(saved[name], dst.dtype, name, source, made_by)
        if src.shape != dst.shape:
            raise _bad(
                Path(str(source)),
                f"the checkpoint's {name} has shape {list(src.shape)}, this model's "
                f"{list(dst.shape)} ({made_by})",
            )
        np.copyto(dst, src)  # in place: agents are views on these arrays
    acc_dtype = model.state.acc.dtype
    model.acc_start = _as_layout(arrays["acc_start"], acc_dtype, "acc_start", source, made_by)
    model.planned_fte = arrays["planned_fte"].copy()
    snaps = arrays.get("snapshots")
    if snaps is not None:
        snaps = _as_layout(snaps, acc_dtype, "snapshots", source, made_by)
    model.snapshots = [
        (int(d), snaps[i].copy()) for i, d in enumerate(meta.get("snapshot_days", []))
    ]
    model.measure_start_day = int(meta["measure_start_day"])
    _set_horizon(
        model,
        day0=int(meta["day0"]),
        warmup_days=int(meta["warmup_days"]),
        years=float(meta["years"]),
        horizon_days=int(meta["horizon_days"]),
        years_planned=float(meta["years_planned"]),
        running=bool(meta["running"]),
    )
    model._warned = set(meta.get("warned", []))
    model._overflow_seen = {k: float(v) for k, v in meta.get("overflow_seen", {}).items()}
    _set_time(model, float(meta["time"]), int(meta["steps"]))
    _set_months(model, int(meta["month_base"]), int(meta["month"]))
    for council, mem in zip(model.councils, meta.get("councils", []), strict=False):
        _restore_council(council, _unjson(mem))
    model._sync_agents()


def _set_horizon(model, **values: Any) -> None:
    """The model's own clock and horizon (time 0 = ``day0``, the end of its warm-up)."""
    for name, value in values.items():
        setattr(model, name, value)
    model._headline_cache = None


def _set_time(model, time: float, steps: int) -> None:
    model.time = time
    if not model._daily_step:
        model.steps = steps
    # the care councils' cycles continue where they were: next cycle after `time`
    for council in model.councils:
        council._generator.stop()
        cycle = int(council.policy.council_cycle_days)
        start = cycle * (math.floor(time / cycle + 1e-9) + 1)
        import mesa

        council._generator = model.schedule_recurring(
            council.convene, mesa.time.Schedule(interval=cycle, start=float(start))
        )


def _set_months(model, base: int, month: int) -> None:
    """The next month-end snapshot: month ``month`` of the window that started at ``base``."""
    from mesa.time import Priority

    from .model import month_end_day

    if model._month_event is not None:
        model._month_event.cancel()
    model._month_base = base
    model._month = month
    model._month_event = model.schedule_event(
        model._month_end,
        at=float(model._month_base + month_end_day(model._month)),
        priority=Priority.HIGH,
    )


def _restore_council(council, mem: dict[str, Any]) -> None:
    council.indicators = list(mem.get("indicators", []))
    council.decisions = list(mem.get("decisions", []))
    council._last = dict(mem.get("last", council._last))
    fc = mem.get("forecaster")
    if fc is not None:
        from .governance import Forecaster

        council.forecaster = Forecaster(
            alpha=fc["alpha"],
            beta=fc["beta"],
            level=fc["level"],
            trend=fc["trend"],
            history=list(fc["history"]),
        )
        council._cum_switch = np.asarray(mem["cum_switch"], dtype=float)
        council._gov_last = dict(mem["gov_last"])


# ---------------------------------------------------------------------------------------------
# Branch
# ---------------------------------------------------------------------------------------------


def branch(
    model,
    policy: Any,
    *,
    config: Any = None,
    rng: int | None = None,
    agents: bool | None = None,
):
    """A new model under ``policy`` that starts from ``model``'s state now.

    ``config``: the configuration from now on (default: the model's; it must lay the zone out
    the same way: same population and horizon); ``rng``: the seed of what happens from now on
    (default: the model's seed, which continues the model's own random numbers; another seed
    gives another future from the same state, as replicates branched from one checkpoint).

    The new model is built as a run under ``policy`` with the same configuration, seed and
    horizon would be at day 0 (its layout: practices turned multidisciplinary by the policy's
    boost, its staff), then takes over from ``model``:

    * every patient and caregiver, as they are (health, care situation, open switch moments,
      counters), the GP queues, the specialist and hospital lists, open episodes, the
      case-management queue, the zone counters, the accumulators, the day and the model time;
    * care plans under the new policy's ``care_plan_share`` (the patient's own lifelong draw,
      as when a patient reaches need 2 during a run);
    * providers: each provider slot of the new model takes the state of the slot of the same
      discipline and practice (in order) of ``model`` (GPs always: their slots do not depend on
      the policy); slots only the new policy has start as new staff; clients of a case manager
      the new policy does not have are handed to its case managers in turn (or, without any,
      go back to their regular team: situation disrupted, re-arrangement continues).

    Branching a model under its own policy continues it exactly (the same numbers as running
    it on). The measurement window is carried over; call ``reset_measurement()`` to measure from
    the branch point. Councils start afresh unless the policy is the same.
    """

    if getattr(model, "_zones", None) is not None:
        raise ZonesimInputError(
            "branching holds a single zone (a Region cannot be branched yet)",
            source="<argument>",
            field="model",
            value=type(model).__name__,
        )
    new = type(model)(
        model.config if config is None else config,
        policy=policy,
        rng=model.seed,
        years=model.years_planned,  # the same layout, nothing simulated: the state is copied
        warmup_days=0,
        agents=model.with_agents if agents is None else agents,
    )
    take_over(new, model, rng)
    return new


def take_over(new, model, rng: int | None = None) -> None:
    """Make ``new`` (a model just built under its own policy, with the same layout as
    ``model`` and nothing simulated) continue from ``model``'s state now: the body of
    :func:`branch` (see there for what is carried over). ``ZoneModel(policy=X)`` uses it to take
    over from its warm-up under the warm-up policy."""
    from . import config as C
    from .core import state as S
    from .core.streams import PURPOSE_CARE_PLAN, uniforms

    same_policy = C.to_dict(new.policy) == C.to_dict(model.policy)
    src, dst = model.state, new.state

    # everything but the providers, the practices' kinds and the provider ranges: as it is
    src_arr = state_arrays(src)
    dst_arr = state_arrays(dst)
    keep_new = {"state/prac/kind"}
    for name, d in dst_arr.items():
        if name.startswith("state/prov/") or name in keep_new or name == "state/zone":
            continue
        s = src_arr[name]
        if s.shape != d.shape:
            raise ZonesimInputError(
                f"the branch's configuration lays the zone out differently ({name}: "
                f"{list(s.shape)} here, {list(d.shape)} in the branch); keep the population "
                "and the horizon of the model branched from",
                source="<argument>",
                field="config",
            )
        np.copyto(d, s)
    zone_keep = ("first_provider", "end_provider", "cm_hours_per_day", "pooled_hours_per_day")
    for fld in dst.zone.dtype.names:
        if fld not in zone_keep:
            dst.zone[fld] = src.zone[fld]

    # providers: match slots by (discipline, practice), in order. Where both policies planned
    # the same FTE for the slot, its person carries on as is (also what the warm-up changed:
    # attrition, recruitment); where the new policy plans another staffing level, the slot
    # takes the new level and its person only keeps strain, workload, caseload, sick leave.
    sp, dp = src.prov, dst.prov
    mapping = np.full(sp.state.shape[0], -1, dtype=np.int64)  # source slot -> new slot
    groups: dict[tuple[int, int], list[int]] = {}
    for i in range(sp.state.shape[0]):
        groups.setdefault((int(sp.discipline[i]), int(sp.practice[i])), []).append(i)
    used: dict[tuple[int, int], int] = {}
    personal = ("booked_hours", "utilisation_ema", "strain", "caseload", "overtime_hours")
    for j in range(dp.state.shape[0]):
        key = (int(dp.discipline[j]), int(dp.practice[j]))
        pool = groups.get(key, [])
        k = used.get(key, 0)
        if k >= len(pool):
            continue  # a slot only the new policy has: new staff
        i = pool[k]
        used[key] = k + 1
        mapping[i] = j
        if new.planned_fte[j] == model.planned_fte[i]:
            for name in dp._fields:
                getattr(dp, name)[j] = getattr(sp, name)[i]
        elif sp.state[i] <= S.PV_SICK and dp.state[j] == S.PV_ACTIVE:
            for name in (*personal, "sick_days", "state", "until"):
                getattr(dp, name)[j] = getattr(sp, name)[i]
    new.planned_fte = new.planned_fte.copy()

    pat = dst.pat
    gp = pat.usual_gp >= 0
    pat.usual_gp[gp] = mapping[pat.usual_gp[gp]].astype(np.int32)
    # case-managed clients: their case manager's new slot, else one of the new policy's
    cm_new = np.flatnonzero((dp.discipline == S.CASE_MANAGER) & (dp.state <= S.PV_SICK))
    held = np.flatnonzero(pat.case_manager >= 0)
    nxt = 0
    for i in held:
        j = mapping[pat.case_manager[i]]
        if j >= 0 and dp.discipline[j] == S.CASE_MANAGER:
            pat.case_manager[i] = j  # its case manager is there (caseload carried over)
            continue
        j = -1
        if len(cm_new):  # handed to the new policy's case managers in turn
            j = cm_new[nxt % len(cm_new)]
            nxt += 1
            dp.caseload[j] += 1
        pat.case_manager[i] = j
        if j < 0 and pat.situation[i] == S.CASE_MANAGED:
            pat.situation[i] = S.DISRUPTED
    # care plans under the new policy: the patient's own lifelong draw
    alive = pat.situation < S.DECEASED
    idx = np.flatnonzero(alive & (pat.need >= 2))
    u = uniforms(new.seed, idx.astype(np.int64), 0, PURPOSE_CARE_PLAN)
    plan = u < new.policy.care_plan_share
    flags = pat.flags[idx] & np.uint8(0xFF ^ S.F_CARE_PLAN)
    pat.flags[idx] = flags | np.where(plan, S.F_CARE_PLAN, 0).astype(np.uint8)

    _set_horizon(
        new,
        day0=model.day0,
        warmup_days=model.warmup_days,
        years=model.years,
        horizon_days=model.horizon_days,
        years_planned=model.years_planned,
        running=model.running,
    )
    new.acc_start = model.acc_start.copy()
    new.snapshots = [(d, a.copy()) for d, a in model.snapshots]
    new.measure_start_day = model.measure_start_day
    new._warned = set(model._warned)
    new._overflow_seen = dict(model._overflow_seen)
    _set_time(new, float(model.time), int(model.steps))
    _set_months(new, model._month_base, model._month)
    if same_policy:  # the policy's parameters as the model has them now (councils adapt them)
        np.copyto(new.prm, model.prm)
        for name, arr in state_arrays(model.tables, "tables").items():
            np.copyto(state_arrays(new.tables, "tables")[name], arr)
        for a, b in zip(model.councils, new.councils, strict=True):
            _restore_council(b, _unjson(_council_memory(a)))
    else:
        for c in new.councils:
            c._last = c._counters()
    if rng is not None:
        from .model import resolve_seed

        new.seed = resolve_seed(rng)  # the kernel's draws from now on
    new._sync_agents()
