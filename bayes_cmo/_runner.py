"""One task runner for the replicate loops of studies (sample size, calibration, null studies).

A study is a list of independent tasks, each a picklable ``(function, argument)``
pair whose randomness comes only from the ``numpy.random.SeedSequence`` it is
handed (spawned from the study seed by task index), so the answer does not
depend on where or in which order the tasks run:

* ``Runner()`` -- in this process, one task after another;
* ``Runner(jobs=N)`` -- on N local processes (joblib's loky backend);
* ``Runner(cluster="local:N")`` -- on a Dask ``LocalCluster`` of N single-threaded workers;
* ``Runner(cluster="tcp://host:8786")`` -- on a running Dask scheduler.

Dask is an optional extra (``pip install 'bayes_cmo[cluster]'``), imported only
when a cluster is asked for. A task that raises is retried once; if it fails
again the study stops with one line naming the task and its seed, and no
partial result is returned (callers write nothing).
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _validate as check
from ._errors import BayesCMOError

__all__ = ["Runner", "check_cluster", "child_seeds", "spawn_seeds"]

#: How often a failed task is tried again before the study stops.
RETRIES = 1


def spawn_seeds(seed: int | None, n_tasks: int) -> list[np.random.SeedSequence]:
    """One independent random stream per task, spawned from the study seed by task index."""
    return np.random.SeedSequence(seed).spawn(int(n_tasks))


def child_seeds(seed: np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    """The first ``n`` children of ``seed``, the same however often they are asked for.

    ``SeedSequence.spawn`` moves on at each call, so a task retried in the same
    process would draw new streams; these are what its first ``spawn(n)`` gives.
    """
    return [
        np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, i), pool_size=seed.pool_size) for i in range(int(n))
    ]


def _describe_seed(argument: Any) -> str:
    seeds = [a for a in (argument if isinstance(argument, tuple) else (argument,)) if isinstance(a, np.random.SeedSequence)]
    if not seeds:
        return ""
    s = seeds[0]
    return f" (seed entropy {s.entropy}, spawn key {tuple(s.spawn_key)})"


def _guarded(function: Callable[[Any], Any], argument: Any) -> tuple[bool, Any]:
    """Run one task, turning an exception into a value so the runner can retry it."""
    try:
        return True, function(argument)
    except Exception:  # noqa: BLE001 -- reported with its task and seed below
        return False, traceback.format_exc(limit=3).strip().splitlines()[-1]


_UNSHARED = object()


def _with_shared(function: Callable[[Any], Any], shared: Any, argument: tuple) -> Any:
    return function((shared, *argument))


@dataclass(frozen=True)
class Runner:
    """Where a study's tasks run: ``jobs`` local processes or a Dask ``cluster``."""

    jobs: int = 1
    cluster: str | None = None
    progress: bool = False

    def __post_init__(self) -> None:
        check.integer(self.jobs, "jobs")
        if self.cluster is not None:
            check_cluster(self.cluster)
            if self.jobs != 1:
                raise BayesCMOError("jobs and cluster: give one of them (a cluster brings its own workers)")

    def map(
        self, function: Callable[[Any], Any], arguments: Sequence[Any], desc: str = "tasks", *, shared: Any = _UNSHARED
    ) -> list[Any]:
        """``[function(a) for a in arguments]``, run here, on local processes or on the cluster, in order.

        With ``shared`` (what every task needs, e.g. the study and its model), each
        argument is a tuple and a task runs ``function((shared, *a))``; a cluster is
        sent ``shared`` once (scattered to every worker), not once per task.
        """
        arguments = list(arguments)
        if not arguments:
            return []
        if self.cluster is not None:
            return _on_dask(self.cluster, function, arguments, desc, self._show, shared)
        if shared is not _UNSHARED:
            arguments = [(shared, *a) for a in arguments]
        results: list[Any] = [None] * len(arguments)
        pending = list(range(len(arguments)))
        for attempt in range(RETRIES + 1):
            outcomes = self._run_local(function, [arguments[i] for i in pending], desc)
            failed = []
            for i, (ok, value) in zip(pending, outcomes):
                if ok:
                    results[i] = value
                else:
                    failed.append((i, value))
            if not failed:
                return results
            pending = [i for i, _ in failed]
            if attempt < RETRIES:
                print(f"bayes-cmo: {len(failed)} task(s) failed; retrying once", file=sys.stderr)
        i, message = failed[0]
        raise BayesCMOError(
            f"{desc}: task {i} failed twice{_describe_seed(arguments[i])}: {message}; nothing was written"
        )

    @property
    def _show(self) -> bool:
        return bool(self.progress) and sys.stderr.isatty()

    def _run_local(self, function, arguments, desc) -> list[tuple[bool, Any]]:
        from tqdm.auto import tqdm

        if self.jobs == 1:
            return [_guarded(function, a) for a in tqdm(arguments, desc=desc, disable=not self._show, leave=False)]
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=int(self.jobs), backend="loky", return_as="generator")
        stream = parallel(delayed(_guarded)(function, a) for a in arguments)
        return list(tqdm(stream, total=len(arguments), desc=desc, disable=not self._show, leave=False))


_CLUSTER = "'local:N' (a Dask LocalCluster of N workers) or a scheduler address such as tcp://host:8786"


def _parse_cluster(cluster: str, name: str = "cluster") -> tuple[str, int | str]:
    if not isinstance(cluster, str) or not cluster.strip():
        raise check.fail(name, _CLUSTER, cluster)
    if cluster.startswith("local:"):
        n = cluster.removeprefix("local:")
        if not n.isdigit() or int(n) < 1:
            raise check.fail(name, "'local:N' with N a whole number >= 1", cluster)
        return "local", int(n)
    if "://" not in cluster and ":" not in cluster:
        raise check.fail(name, _CLUSTER, cluster, "; it is neither 'local:N' nor a scheduler address")
    return "address", cluster


def check_cluster(value: str, name: str = "cluster") -> str:
    """A ``cluster`` setting (``local:N`` or a scheduler address), in the one message shape."""
    _parse_cluster(value, name)
    return value


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise BayesCMOError(
            "cluster: Dask is not installed; install the extra with pip install 'bayes_cmo[cluster]'"
        ) from None
    return distributed


def _on_dask(cluster: str, function, arguments, desc: str, show: bool, shared: Any = _UNSHARED) -> list[Any]:
    distributed = _import_distributed()
    kind, value = _parse_cluster(cluster)
    from tqdm.auto import tqdm

    local = None
    try:
        if kind == "local":
            local = distributed.LocalCluster(
                n_workers=value, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
            )
            client = distributed.Client(local)
        else:
            try:
                client = distributed.Client(value, timeout="10s")
            except OSError as exc:
                raise BayesCMOError(f"cluster: cannot reach the Dask scheduler at {value} ({exc})") from None
        with client:
            if shared is _UNSHARED:
                futures = client.map(function, arguments, pure=False, retries=RETRIES)
            else:  # the shared part goes to every worker once; tasks carry only their own arguments
                data = client.scatter(shared, broadcast=True, hash=False)
                n = len(arguments)
                futures = client.map(_with_shared, [function] * n, [data] * n, arguments, pure=False, retries=RETRIES)
            index = {f.key: i for i, f in enumerate(futures)}
            results: list[Any] = [None] * len(arguments)
            bar = tqdm(total=len(futures), desc=desc, disable=not show, leave=False)
            for future in distributed.as_completed(futures):
                i = index[future.key]
                if future.status == "error":
                    exc = future.exception()
                    raise BayesCMOError(
                        f"{desc}: task {i} failed twice{_describe_seed(arguments[i])}: "
                        f"{type(exc).__name__}: {exc}; nothing was written"
                    )
                results[i] = future.result()
                bar.update()
            bar.close()
            return results
    finally:
        if local is not None:
            local.close()
