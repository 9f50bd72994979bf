"""Dashboard latency: one simulated year of a zone for both policies, as the page runs it.

    python benchmarks/dashboard_latency.py                      # 110,000 inhabitants
    python benchmarks/dashboard_latency.py --population 20000 --json out.json

What is timed (baseline ``status_quo`` against ``integrated``, same zone and seed):

- build: both models built (what Reset costs);
- engine: twelve months of both models, the kernel alone (``model.run_until`` month by month),
  one model after the other, and in two threads (faster only where the kernel releases the GIL);
- worker: the same year the way the dashboard's worker runs it (the two models in two threads),
  with the monthly metrics of both and the view the page draws after each month
  (``Pair.step`` + ``Pair.view``);
- charts: drawing each figure of the year-end view to PNG (what the page shows);
- page: Play through a :class:`~zonesim.dashboard.state.Controller` whose page callback draws the
  visible chart for every new view, as the page does: wall time from Play to idle, and the
  longest wait between two progress updates (how long the page goes without news).

The kernels are warmed up (compiled or loaded from ``NUMBA_CACHE_DIR``) before the clock starts.
Numbers depend on the machine: run it on an otherwise idle one.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--population", type=int, default=110_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--baseline", default="status_quo")
    ap.add_argument("--alternative", default="integrated")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")  # the models' notes (queue overflow...) are not timed

    from zonesim.dashboard import charts
    from zonesim.dashboard import state as st

    settings = st.make_settings(
        st.load_base_config(None), population=args.population, seed=args.seed, years=1
    )
    pols = st.preset_policy(args.baseline), st.preset_policy(args.alternative)

    # warm-up: kernels compiled or loaded from the cache, outside the clock
    warm = st.make_settings(st.load_base_config(None), population=2_000, seed=1, years=1)
    st.Pair.build(warm, *pols).step(1)

    res: dict[str, float | int | str] = {
        "population": args.population,
        "policies": f"{args.baseline} vs {args.alternative}",
        "python": platform.python_version(),
        "machine": platform.machine(),
    }

    res["build_s"], pair = _timed(lambda: st.Pair.build(settings, *pols))

    def engine_year() -> None:
        for m in range(1, 13):
            for side in pair.sides.values():
                side.model.run_until(float(st.month_end_day(m)))

    res["engine_year_s"], _ = _timed(engine_year)

    # The same with the two models in two threads: faster only if the kernel releases the GIL.
    pair = st.Pair.build(settings, *pols)

    def engine_year_threads() -> None:
        import threading

        def run(model) -> None:
            for m in range(1, 13):
                model.run_until(float(st.month_end_day(m)))

        threads = [threading.Thread(target=run, args=(s.model,)) for s in pair.sides.values()]
        for th in threads:
            th.start()
        for th in threads:
            th.join()

    res["engine_year_two_threads_s"], _ = _timed(engine_year_threads)

    pair = st.Pair.build(settings, *pols)

    def worker_year() -> st.View:
        view = None
        for _ in range(12):
            pair.step(1)
            view = pair.view(pair.month)
        return view

    res["worker_year_s"], view = _timed(worker_year)
    res["view_s"], _ = _timed(lambda: pair.view(99))
    for key in charts.FIGURES:
        res[f"chart_{key}_s"], _ = _timed(lambda k=key: charts.figure_png(k, view, dpi=90))

    # Play through the controller, with a page that draws the visible chart for each new view.
    updates: list[float] = []
    drawn: set[int] = set()

    def page(status: st.Status) -> None:
        updates.append(time.perf_counter())
        v = status.view
        if v is not None and v.version not in drawn:
            drawn.add(v.version)
            charts.figure_png("aims", v, dpi=90)

    ctl = st.Controller(settings, *pols, on_change=page)
    ctl.start()
    ctl.wait_idle(timeout=3600)
    updates.clear()
    t0 = time.perf_counter()
    ctl.play()
    ctl.wait_idle(timeout=3600)
    t1 = time.perf_counter()
    ctl.close(timeout=60)
    gaps = [b - a for a, b in zip([t0, *updates], [*updates, t1], strict=True)]
    res["page_year_s"] = t1 - t0
    res["page_longest_wait_s"] = max(gaps)
    res["page_updates"] = len(updates)
    res["page_charts_drawn"] = len(drawn)

    width = max(len(k) for k in res)
    for k, v in res.items():
        shown = f"{v:.3f}" if isinstance(v, float) else str(v)
        print(f"{k:<{width}}  {shown}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
