"""Where the runs of a study execute: one :class:`concurrent.futures.Executor` whatever the machine.

Five kinds, switched by one line of a study file (``[executor] kind = ...``) or one flag
(``zonesim sweep --executor ...``, ``zonesim compare --executor ...``):

- ``sequential``: in this process, one run after the other (no extra packages);
- ``processes``: worker processes on this machine (:class:`concurrent.futures.ProcessPoolExecutor`,
  no extra packages; the default of ``zonesim compare``);
- ``local``: a Dask cluster of worker processes on this machine (``distributed.LocalCluster``,
  one single-threaded worker per core by default);
- ``slurm``: a Dask cluster whose workers are SLURM batch jobs (``dask_jobqueue.SLURMCluster``),
  a fixed number of jobs, with the site's settings in an executor profile
  (``configs/executors/<site>.toml``, see ``slurm_example.toml``);
- an address (``tcp://host:8786``): a Dask scheduler that is already running.

A profile is a TOML file naming the kind and its settings; ``--executor NAME`` also takes a
profile's name (``configs/executors/NAME.toml``) or path. Dask and dask-jobqueue are optional
(the ``cluster`` extra) and imported only when a Dask kind is opened: ``import zonesim`` never
imports them.

Every worker can load the numba kernels once when it starts (:func:`open_executor`'s ``warm``,
a function the run pipeline passes: :func:`zonesim.runs.simulate.warm_up`), so the first runs
are not slowed by it; point ``NUMBA_CACHE_DIR`` at local disk on clusters (the profile's
``numba_cache_dir``). This module knows nothing of what runs on the executors (no import of the
run pipeline: the pipeline imports it, never the other way round).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import validation as V
from .errors import ZonesimInputError

__all__ = [
    "KINDS",
    "ExecutorHandle",
    "ExecutorSpec",
    "SequentialExecutor",
    "available_cores",
    "check_choice",
    "load_profile",
    "open_executor",
    "resolve_executor",
    "slurm_cluster",
    "slurm_job_script",
]

KINDS = ("sequential", "processes", "local", "slurm", "address")
_ADDRESS_RE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?[\w.-]+:\d+/?$|^[a-z][a-z0-9+.-]*://\S+$")
_PROFILE_KEYS = ("kind", "workers", "n_jobs", "numba_cache_dir", "address", "cluster")
_LOCAL_DEFAULTS = {"threads_per_worker": 1, "processes": True, "dashboard_address": None}


def available_cores() -> int:
    """Cores this process may use (its CPU affinity where the platform tells)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


# ---------------------------------------------------------------------------------------------
# In-process execution through the Executor interface
# ---------------------------------------------------------------------------------------------


class SequentialExecutor(cf.Executor):
    """An :class:`~concurrent.futures.Executor` that runs each call in this process, at once,
    when it is submitted (the returned future is already done). Exceptions go into the future;
    ``KeyboardInterrupt`` and ``SystemExit`` propagate."""

    def __init__(self) -> None:
        self._shutdown = False

    def submit(self, fn, /, *args, **kwargs) -> cf.Future:
        if self._shutdown:
            raise RuntimeError("cannot schedule new futures after shutdown")
        fut: cf.Future = cf.Future()
        fut.set_running_or_notify_cancel()
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:  # KeyboardInterrupt is not an Exception: it propagates
            fut.set_exception(exc)
        else:
            fut.set_result(result)
        return fut

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._shutdown = True


# ---------------------------------------------------------------------------------------------
# What to open: the executor spec
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExecutorSpec:
    """A resolved executor choice (nothing started yet).

    kind: one of :data:`KINDS`; workers: local worker processes (None: all cores);
    address: the scheduler of ``address``; n_jobs: SLURM batch jobs; numba_cache_dir: exported
    in SLURM job scripts; cluster: keyword arguments of ``LocalCluster`` / ``SLURMCluster``;
    profile: the profile file it came from, if any.
    """

    kind: str = "sequential"
    workers: int | None = None
    address: str | None = None
    n_jobs: int | None = None
    numba_cache_dir: str | None = None
    cluster: Mapping[str, Any] = field(default_factory=dict)
    profile: str | None = None

    def describe(self) -> str:
        if self.kind == "sequential":
            return "sequential (this process)"
        if self.kind == "processes":
            return f"{self.capacity()} worker process(es) on this machine"
        if self.kind == "local":
            return f"local Dask cluster, {self.capacity()} worker process(es)"
        if self.kind == "slurm":
            return f"Dask on SLURM, {self.n_jobs} job(s) x {self.processes()} worker(s)" + (
                f" (profile {self.profile})" if self.profile else ""
            )
        return f"Dask scheduler at {self.address}"

    def processes(self) -> int:
        """Worker processes per SLURM job."""
        cores = int(self.cluster.get("cores", 1))
        return int(self.cluster.get("processes") or cores)

    def capacity(self) -> int:
        """Runs that can execute at once (as planned; a running scheduler may differ)."""
        if self.kind == "sequential":
            return 1
        if self.kind in ("local", "processes"):
            return self.workers or available_cores()
        if self.kind == "slurm":
            return max(1, (self.n_jobs or 1) * self.processes())
        return max(1, self.workers or 1)


def _bad(expected: str, source: str, key: str, value: Any, show: bool = True):
    return ZonesimInputError(expected, source=source, field=key, value=value, show_value=show)


def _check_workers(value: Any, source: str, key: str) -> int | None:
    if value is None:
        return None
    if not V.is_int(value) or value < 1:
        raise _bad("expected a number of workers >= 1", source, key, value)
    return int(value)


def _profile_path(name: str) -> Path | None:
    """``configs/executors/<name>.toml`` (built in), a path, or None."""
    p = Path(name).expanduser()
    if p.suffix == ".toml" or os.sep in name or "/" in name:
        return p
    from .config import builtin_path

    bp = builtin_path("executors", name)
    return bp if bp.exists() else None


def _profile_names() -> list[str]:
    from .config import builtin_names

    try:
        return builtin_names("executors")
    except (FileNotFoundError, OSError):  # pragma: no cover - a broken install
        return []


def load_profile(name_or_path: str | Path) -> ExecutorSpec:
    """An :class:`ExecutorSpec` from a profile: a name of ``configs/executors/`` or a TOML path.

    Keys: ``kind`` (local, slurm, address or sequential), ``workers`` (local), ``n_jobs`` and
    ``numba_cache_dir`` (slurm), ``address``, and a ``[cluster]`` table of keyword arguments for
    ``LocalCluster`` or ``SLURMCluster``. Bad keys and values raise
    :class:`~zonesim.errors.ZonesimInputError` naming the file and the key.
    """
    from .config import _read_toml

    path = _profile_path(str(name_or_path))
    if path is None:
        raise _bad(
            "unknown executor; expected sequential, local, slurm, a scheduler address "
            f"(tcp://host:port), a profile file or one of: {', '.join(_profile_names())}",
            "<argument>",
            "executor",
            str(name_or_path),
        )
    data = _read_toml(path)
    src = str(path)
    for key in data:
        if key not in _PROFILE_KEYS:
            raise _bad(
                f"unknown key; expected one of: {', '.join(_PROFILE_KEYS)}", src, key, None, False
            )
    kind = data.get("kind")
    if kind not in KINDS:
        raise _bad(f"expected one of: {', '.join(KINDS)}", src, "kind", kind)
    cluster = data.get("cluster", {})
    if not isinstance(cluster, dict):
        raise _bad("expected a table of cluster settings", src, "cluster", cluster)
    spec = ExecutorSpec(
        kind=kind,
        workers=_check_workers(data.get("workers"), src, "workers"),
        address=data.get("address"),
        n_jobs=data.get("n_jobs"),
        numba_cache_dir=data.get("numba_cache_dir"),
        cluster=dict(cluster),
        profile=src,
    )
    return _validate_spec(spec, src)


def _validate_spec(spec: ExecutorSpec, src: str) -> ExecutorSpec:
    if spec.kind == "address":
        if not isinstance(spec.address, str) or not _ADDRESS_RE.match(spec.address):
            raise _bad(
                "expected a scheduler address like tcp://host:8786", src, "address", spec.address
            )
    if spec.numba_cache_dir is not None and not isinstance(spec.numba_cache_dir, str):
        raise _bad("expected a folder path", src, "numba_cache_dir", spec.numba_cache_dir)
    if spec.kind == "slurm":
        n = spec.n_jobs
        if not V.is_int(n) or n < 1:
            raise _bad("expected a number of SLURM jobs >= 1", src, "n_jobs", n)
        _check_cluster_keys(spec.cluster, src, _slurm_keys())
        for key in ("cores", "memory"):
            if key not in spec.cluster:
                raise _bad(
                    f"expected cluster.{key} (SLURMCluster needs it)", src, f"cluster.{key}", None
                )
        cores = spec.cluster["cores"]
        if not V.is_int(cores) or cores < 1:
            raise _bad("expected a number of cores >= 1", src, "cluster.cores", cores)
        procs = spec.cluster.get("processes", cores)
        if not V.is_int(procs) or not 1 <= procs <= cores:
            raise _bad(
                "expected worker processes per job from 1 to cluster.cores",
                src,
                "cluster.processes",
                procs,
            )
        for key in ("job_extra_directives", "job_script_prologue", "worker_extra_args"):
            v = spec.cluster.get(key, [])
            if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
                raise _bad("expected a list of strings", src, f"cluster.{key}", v)
    if spec.kind == "local":
        _check_cluster_keys(spec.cluster, src, _local_keys())
    return spec


def _slurm_keys() -> set[str] | None:
    """Keyword arguments ``SLURMCluster`` accepts (None: dask-jobqueue is not installed)."""
    import inspect

    try:
        from dask_jobqueue import SLURMCluster
        from dask_jobqueue.core import Job
        from dask_jobqueue.slurm import SLURMJob
    except ImportError:
        return None
    keys: set[str] = set()
    for fn in (SLURMCluster.__init__, SLURMJob.__init__, Job.__init__):
        for name, p in inspect.signature(fn).parameters.items():
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                keys.add(name)
    # set by zonesim, or not keyword arguments at all
    return keys - {"self", "scheduler", "loop", "asynchronous", "job_cls", "n_workers"}


def _local_keys() -> set[str] | None:
    import inspect

    try:
        from distributed import LocalCluster, Nanny, Worker
    except ImportError:
        return None
    keys: set[str] = set()
    for fn in (LocalCluster.__init__, Nanny.__init__, Worker.__init__):  # + worker keywords
        for name, p in inspect.signature(fn).parameters.items():
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                keys.add(name)
    return keys - {"self", "n_workers", "loop", "asynchronous", "start", "scheduler_ip"}


def _check_cluster_keys(cluster: Mapping[str, Any], src: str, allowed: set[str] | None) -> None:
    if allowed is None:  # cannot check without the package; opening it will tell
        return
    for key in cluster:
        if key not in allowed:
            import difflib

            match = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f" (did you mean '{match[0]}'?)" if match else ""
            raise _bad(f"unknown cluster setting{hint}", src, f"cluster.{key}", None, False)


def check_choice(value: str, source: str, key: str = "executor.kind") -> None:
    """Check an executor choice without importing Dask: a kind, a scheduler address, or an
    existing profile (name or path)."""
    if value in KINDS or "://" in value or _ADDRESS_RE.match(value):
        return
    path = _profile_path(value)
    if path is None or not path.exists():
        raise _bad(
            "unknown executor; expected sequential, local, slurm, a scheduler address "
            f"(tcp://host:port), a profile file or one of: {', '.join(_profile_names())}",
            source,
            key,
            value,
        )


def resolve_executor(
    value: str | ExecutorSpec | None = None,
    *,
    workers: int | None = None,
    site: str | None = None,
    study: Mapping[str, Any] | None = None,
    source: str = "<argument>",
) -> ExecutorSpec:
    """The executor to open: ``value`` (a flag: a kind, an address or a profile) wins over the
    study's ``[executor]`` table (``study``: kind, workers, site, address); ``workers`` and
    ``site`` (a SLURM profile) override both. Without any choice: ``local`` where Dask is
    installed, else ``sequential``. Everything is checked here, before anything starts."""
    study = dict(study or {})
    src = source
    if isinstance(value, ExecutorSpec):
        spec = value
    else:
        choice = value
        site = site or study.get("site")
        if choice is None:
            choice = study.get("kind")
            src = study.get("source", source)
            if choice == "address":
                choice = study.get("address")
        if choice is None:
            choice = "local" if _have_dask() else "sequential"
        if not isinstance(choice, str) or not choice:
            raise _bad("expected an executor name", src, "executor", choice)
        if choice == "sequential":
            spec = ExecutorSpec("sequential")
        elif choice == "processes":
            spec = ExecutorSpec("processes")
        elif choice == "local":
            bp = _profile_path("local")
            spec = load_profile(bp) if bp is not None and bp.exists() else ExecutorSpec("local")
        elif choice == "slurm":
            if not site:
                raise _bad(
                    "the slurm executor needs a site profile: --site NAME|FILE or "
                    "[executor] site = ... (see configs/executors/slurm_example.toml)",
                    src,
                    "site",
                    None,
                    False,
                )
            spec = load_profile(site)
            if spec.kind != "slurm":
                raise _bad("expected a slurm profile", spec.profile or src, "kind", spec.kind)
        elif "://" in choice or (_ADDRESS_RE.match(choice) and not choice.endswith(".toml")):
            spec = _validate_spec(ExecutorSpec("address", address=choice), src)
        else:
            spec = load_profile(choice)
    w = workers if workers is not None else study.get("workers")
    w = _check_workers(w, "<argument>" if workers is not None else src, "workers")
    if w is not None and spec.kind in ("local", "address", "processes"):
        spec = ExecutorSpec(**{**spec.__dict__, "workers": w})
    return spec


def _have_dask() -> bool:
    import importlib.util

    return importlib.util.find_spec("distributed") is not None


# ---------------------------------------------------------------------------------------------
# Opening: the executor and what it runs on
# ---------------------------------------------------------------------------------------------


@dataclass
class ExecutorHandle:
    """An open executor: ``executor`` (submit runs to it), ``capacity`` (runs at once, as
    planned), ``description``; ``client`` and ``cluster`` for the Dask kinds."""

    executor: cf.Executor
    capacity: int
    description: str
    client: Any = None
    cluster: Any = None

    @property
    def window(self) -> int:
        """How many runs to keep submitted at once: enough to keep every worker busy, few
        enough that the driver holds little and a lost driver loses little."""
        if self.client is None:
            return max(1, self.capacity * 2) if self.capacity > 1 else 1
        return max(8, 4 * self.capacity)

    def workers_alive(self) -> int | None:
        """Dask workers connected now (None for in-process executors)."""
        if self.client is None:
            return None
        try:
            return len(self.client.scheduler_info(n_workers=-1).get("workers", {}))
        except TypeError:  # pragma: no cover - older distributed without n_workers
            return len(self.client.scheduler_info().get("workers", {}))


def _need_dask(what: str):
    try:
        import distributed
    except ImportError:
        raise ZonesimInputError(
            f"the {what} executor needs Dask: pip install 'zonesim[cluster]' "
            "(or use --executor sequential)",
            source="<environment>",
            field="distributed",
        ) from None
    return distributed


def _warmup_plugin(warm: Callable[[], None]):
    """A Dask worker plugin that calls ``warm`` on every worker when it starts (also one the
    nanny restarts after a crash)."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class ZonesimWarmup(WorkerPlugin):
        idempotent = True
        name = "zonesim-warmup"

        def setup(self, worker) -> None:
            try:
                warm()
            except Exception:  # a run reports its own errors; warming up is only a speed-up
                logging.getLogger("zonesim").exception("zonesim: warm-up failed")

    return ZonesimWarmup()


def _slurm_kwargs(spec: ExecutorSpec) -> dict[str, Any]:
    kw = dict(spec.cluster)
    prologue = list(kw.get("job_script_prologue", []))
    if spec.numba_cache_dir:
        line = f'export NUMBA_CACHE_DIR="{spec.numba_cache_dir}"'
        prologue = [line, f'mkdir -p "{spec.numba_cache_dir}"', *prologue]
    if prologue:
        kw["job_script_prologue"] = prologue
    return kw


def slurm_cluster(spec: ExecutorSpec):
    """The ``dask_jobqueue.SLURMCluster`` of a slurm spec, not scaled (no job submitted yet).
    Its scheduler runs in this process."""
    _need_dask("slurm")
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError:
        raise ZonesimInputError(
            "the slurm executor needs dask-jobqueue: pip install 'zonesim[cluster]'",
            source="<environment>",
            field="dask_jobqueue",
        ) from None
    try:
        return SLURMCluster(**_slurm_kwargs(spec))
    except (TypeError, ValueError) as exc:
        raise ZonesimInputError(
            f"SLURMCluster refused the settings ({exc})",
            source=spec.profile or "<executor>",
            field="cluster",
        ) from None


def slurm_job_script(spec: ExecutorSpec) -> str:
    """The batch script each SLURM job runs (what ``sbatch`` would get), for checking."""
    cluster = slurm_cluster(spec)
    try:
        return cluster.job_script()
    finally:
        cluster.close()


@contextlib.contextmanager
def open_executor(
    spec: ExecutorSpec, *, warm: Callable[[], None] | None = None
) -> Iterator[ExecutorHandle]:
    """Start what ``spec`` says and yield an :class:`ExecutorHandle`; shut it all down on exit
    (also on errors, Ctrl-C and SIGTERM: worker processes are stopped, nothing is left
    running). ``warm``: a picklable function every worker process calls once when it starts
    (e.g. to load the numba kernels)."""
    if spec.kind == "sequential":
        ex = SequentialExecutor()
        try:
            yield ExecutorHandle(ex, 1, spec.describe())
        finally:
            ex.shutdown()
        return
    if spec.kind == "processes":
        pool = process_pool(spec.capacity(), warm)
        try:
            yield ExecutorHandle(pool, spec.capacity(), spec.describe())
        except BaseException:
            stop_pool(pool)
            raise
        pool.shutdown(wait=True)
        return
    distributed = _need_dask(spec.kind)
    cluster = None
    client = None
    try:
        if spec.kind == "local":
            kw = {**_LOCAL_DEFAULTS, "silence_logs": logging.ERROR, **dict(spec.cluster)}
            if kw.get("dashboard_address") == "":  # TOML has no null: "" means no dashboard
                kw["dashboard_address"] = None
            cluster = distributed.LocalCluster(n_workers=spec.capacity(), **kw)
            client = distributed.Client(cluster)
            capacity = spec.capacity() * int(kw.get("threads_per_worker") or 1)
        elif spec.kind == "slurm":
            cluster = slurm_cluster(spec)
            cluster.scale(jobs=spec.n_jobs)
            client = distributed.Client(cluster)
            capacity = spec.capacity()
        else:
            try:
                client = distributed.Client(spec.address, timeout="20s")
            except OSError as exc:
                raise ZonesimInputError(
                    f"cannot reach a Dask scheduler there ({exc})",
                    source="<argument>",
                    field="executor",
                    value=spec.address,
                ) from None
            info = client.scheduler_info()
            threads = sum(w.get("nthreads", 1) for w in info.get("workers", {}).values())
            capacity = max(1, threads, spec.workers or 0)
        if warm is not None:
            client.register_plugin(_warmup_plugin(warm))
        ex = client.get_executor(pure=False)
        yield ExecutorHandle(ex, max(1, math.floor(capacity)), spec.describe(), client, cluster)
    finally:
        if client is not None:
            with contextlib.suppress(Exception):
                client.close(timeout=10)
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close(timeout=10)


# ---------------------------------------------------------------------------------------------
# Worker processes on this machine (no Dask)
# ---------------------------------------------------------------------------------------------


def _worker_init(warm: Callable[[], None] | None) -> None:
    """Workers ignore Ctrl-C and SIGTERM (both sent to the whole process group by a terminal,
    ``kill -- -PGID`` or SLURM): the parent handles them and stops the workers itself
    (:func:`stop_pool`). Then ``warm`` (load the kernels once)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if warm is not None:
        try:
            warm()
        except Exception:  # a run reports its own errors; warming up is only a speed-up
            logging.getLogger("zonesim").exception("zonesim: warm-up failed")


def start_method() -> str:
    """How worker processes start: ``ZONESIM_MP_START`` (fork, forkserver, spawn), else fork
    where the platform has it (Linux), spawn elsewhere.

    fork is the fastest (measured: forkserver about 0.3 s, spawn about 2 s slower per experiment
    on 2 cores) and, unlike forkserver and spawn, does not re-import the caller's ``__main__``,
    so a plain script calling :func:`zonesim.compare` without an ``if __name__ == "__main__":``
    guard works. The workers only run zonesim's single-threaded kernels; where the platform has
    no fork (macOS, Windows use spawn), scripts need that guard, as with any process pool.
    """
    import multiprocessing

    wanted = os.environ.get("ZONESIM_MP_START")
    methods = multiprocessing.get_all_start_methods()
    if wanted:
        if wanted not in methods:
            raise ZonesimInputError(
                f"expected one of {', '.join(methods)}",
                source="<environment>",
                field="ZONESIM_MP_START",
                value=wanted,
            )
        return wanted
    return "fork" if "fork" in methods else "spawn"


def process_pool(workers: int, warm: Callable[[], None] | None = None) -> cf.ProcessPoolExecutor:
    """A :class:`~concurrent.futures.ProcessPoolExecutor` of ``workers`` processes that leave
    signals to the parent; all processes are started here, at once."""
    import multiprocessing
    import warnings

    method = start_method()
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":  # the server imports the engine once; workers fork from it
        ctx.set_forkserver_preload(["zonesim.runs.simulate", "zonesim.model", "zonesim.core.day"])
    pool = cf.ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_worker_init, initargs=(warm,)
    )
    with warnings.catch_warnings():
        # Python 3.12 warns when forking a process that has threads (BLAS workers after a
        # matrix product, a notebook kernel's); the children only run zonesim's kernels.
        warnings.filterwarnings(
            "ignore",
            message=r".*use of fork\(\) may lead to deadlocks",
            category=DeprecationWarning,
        )
        # a first (empty) call starts every process now (fork: all at once), before the
        # pool's own threads and a progress bar's
        pool.submit(int)
    return pool


def stop_pool(pool: cf.ProcessPoolExecutor) -> None:
    """Cancel what has not started and end the worker processes now (Ctrl-C, an error)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.kill()  # SIGKILL: the workers ignore SIGTERM (see _worker_init); they hold nothing
    for p in procs:
        p.join(timeout=5)
