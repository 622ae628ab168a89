"""Latency of the einsum engine vs pgmpy VariableElimination, same queries, same run.

    python benchmarks/engine_latency.py

1. Single query (one target, one evidence set) on asia and alarm: median
   latency over repeats, with the compiled contraction plan already cached.
2. Batched: D=1000 Dirichlet draws of alarm's CPTs around the originals, one
   target, 20 evidence sets, as one engine call; pgmpy loops over a subset of
   draws (building the model per draw, then 20 VE queries) and is scaled up.

Answers are checked against each other before timing is reported.
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bayes_cmo import engine  # noqa: E402
from bayes_cmo.network import _pgmpy as adapter  # noqa: E402


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:8.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:8.2f} ms"
    return f"{seconds:8.2f} s "


def pgmpy_vector(factor, target, net) -> np.ndarray:
    names = [str(s) for s in factor.state_names[target]]
    return np.array([factor.values[names.index(s)] for s in net.states[target]])


def dirichlet_draws(net, D, rng, concentration=100.0, floor=0.1):
    out = {}
    for v in net.variables:
        alpha = np.moveaxis(concentration * net.cpts[v] + floor, 0, -1)
        g = rng.gamma(np.broadcast_to(alpha, (D, *alpha.shape)))
        out[v] = np.moveaxis(g / g.sum(-1, keepdims=True), -1, 1)
    return out


SINGLE = {
    "asia": ("lung", {"xray": "yes", "dysp": "yes", "smoke": "yes"}),
    "alarm": ("LVFAILURE", {"HRBP": "HIGH", "CO": "LOW", "BP": "NORMAL", "SAO2": "LOW"}),
}


def main() -> None:
    t0 = time.perf_counter()
    from bayes_cmo.network import _pgmpy

    print(f"(pgmpy import: {time.perf_counter() - t0:.1f} s)\n")
    warnings.simplefilter("ignore")
    rows = []

    models = {}
    for name, (target, ev) in SINGLE.items():
        model = _pgmpy.get_example_model(name)
        net = adapter.arrays_from_pgmpy(model)
        models[name] = (model, net)
        ve = _pgmpy.VariableElimination(model)

        t_first = time.perf_counter()
        ours = engine.query(net, [target], [ev])[0]
        t_first = time.perf_counter() - t_first
        theirs = pgmpy_vector(ve.query([target], evidence=ev, show_progress=False), target, net)
        assert np.allclose(ours, theirs, atol=1e-9, rtol=0), (ours, theirs)

        t_ours = median_time(lambda: engine.query(net, [target], [ev]), 300)
        t_pg = median_time(lambda: ve.query([target], evidence=ev, show_progress=False), 40)
        rows.append((f"{name}: P({target} | {len(ev)} findings)", t_ours, t_pg, t_first))

    # batched: D draws x E evidence sets, one target
    model, net = models["alarm"]
    rng = np.random.default_rng(0)
    D, E, target, subset = 1000, 20, "LVFAILURE", 3
    batched = engine.with_cpts(net, **dirichlet_draws(net, D, rng))
    observable = ["HRBP", "CO", "BP", "SAO2", "PRESS", "EXPCO2", "HISTORY", "CVP", "PCWP"]
    sets = []
    for _ in range(E):
        chosen = rng.choice(observable, size=int(rng.integers(1, 5)), replace=False)
        sets.append({str(v): net.states[v][int(rng.integers(len(net.states[v])))] for v in chosen})

    t_first = time.perf_counter()
    ours = engine.query(batched, [target], sets)
    t_first = time.perf_counter() - t_first
    t_ours = median_time(lambda: engine.query(batched, [target], sets), 5)

    def pgmpy_loop(draws):
        out = np.empty((len(draws), E, len(net.states[target])))
        for k, d in enumerate(draws):
            one = engine.with_cpts(net, **{v: batched.cpts[v][d] for v in net.variables})
            ve = _pgmpy.VariableElimination(adapter.to_pgmpy(one))
            for i, ev in enumerate(sets):
                f = ve.query([target], evidence=ev, show_progress=False)
                out[k, i] = pgmpy_vector(f, target, net)
        return out

    draws = list(range(subset))
    t = time.perf_counter()
    theirs = pgmpy_loop(draws)
    t_pg = (time.perf_counter() - t) * D / subset
    diff = np.abs(ours[draws] - theirs).max()
    assert diff < 1e-9, diff
    rows.append(
        (f"alarm batched: D={D} draws x E={E} sets (pgmpy: {subset} draws, scaled)", t_ours, t_pg, t_first)
    )

    w = max(len(r[0]) for r in rows)
    print(f"{'case':<{w}}  {'ours (median)':>13}  {'pgmpy VE':>11}  {'speed-up':>8}  {'ours 1st call':>13}")
    print("-" * (w + 54))
    for label, a, b, first in rows:
        print(f"{label:<{w}}  {fmt(a):>13}  {fmt(b):>11}  {b / a:7.1f}x  {fmt(first):>13}")
    print(f"\nbatched: max |ours - pgmpy| over checked draws = {diff:.2e}")
    print(f"total wall time {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
