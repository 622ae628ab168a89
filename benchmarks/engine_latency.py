"""Latency of the einsum engine vs pgmpy VariableElimination, same queries, same run.

    python benchmarks/engine_latency.py

1. Single query (one target, one evidence set) on asia and alarm: median
   latency over repeats, with the compiled contraction plan already cached.
2. Batched: D=1000 Dirichlet draws of alarm's CPTs around the originals, one
   target, 20 evidence sets, as one engine call; pgmpy loops over a subset of
   draws (building the model per draw, then 20 VE queries) and is scaled up.

3. End to end: the command ``bayes-cmo sweep --json --draws 1000 --target
   synergy --target dissolution`` (start-up, model build, sweep, output; median
   of --runs whole processes, wall and CPU, next to the imports alone) against a pgmpy VariableElimination
   loop over the same queries (every context state and the baseline, both
   targets, per draw, network build included), one draw timed beside each
   command run and scaled to 1,000; ratios pair by pair, then the median; and ``bayes-cmo query --target synergy`` against
   ``python -c "import pandas"`` (whole processes, interleaved).

Answers are checked against each other before timing is reported.

    python benchmarks/engine_latency.py [--runs 5] [--pgmpy-draws 3] [--end-to-end]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

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


def whole_process(argv: list[str], runs: int, env: dict[str, str] | None = None) -> tuple[float, float]:
    """(median wall seconds, median CPU seconds) of ``runs`` runs of a command, output discarded."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        # run outside the repository: ``python -c`` would import the checkout, not the installed package
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/", env=env)
        walls.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def _interpreter(cli: str) -> str:
    """The Python that runs the command (its script's first line), so the imports alone are timed there too."""
    try:
        first = Path(cli).read_text(errors="replace").splitlines()[0]
    except (OSError, IndexError):
        return sys.executable
    return first[2:].strip() if first.startswith("#!") and "python" in first else sys.executable


def _bytecode_note(python: str) -> str:
    """Whether the command starts from compiled modules: an editable install under
    PYTHONDONTWRITEBYTECODE compiles every module at every start (~0.1-0.2 s); a pip install does not."""
    code = (
        "import importlib.util, os, bayes_cmo.engine.core as m; "
        "print(os.path.exists(importlib.util.cache_from_source(m.__file__)))"
    )
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, cwd="/").stdout.split()
    if out == ["True"]:
        return "modules compiled: the start a pip install gives"
    return "modules NOT compiled (editable install without bytecode?): start-up is slower than a user's"


def end_to_end(runs: int, pgmpy_draws: int) -> None:
    from sweep import TARGETS, one_draw, pgmpy_sweep_one_draw  # benchmarks/sweep.py

    import bayes_cmo as bc

    cli = shutil.which("bayes-cmo") or "bayes-cmo"
    python = _interpreter(cli)
    sweep_cmd = [cli, "sweep", "--json", "--draws", "1000", *(a for t in TARGETS for a in ("--target", t))]
    query_cmd = [cli, "query", "--target", "synergy"]
    pandas_cmd = [python, "-c", "import pandas"]
    print(f"\nthe command: {cli} ({_bytecode_note(python)})")
    q_wall, q_cpu, p_wall, p_cpu = [], [], [], []
    for _ in range(runs):  # interleaved, so drift in the machine's speed hits both
        w, c = whole_process(query_cmd, 1)
        q_wall.append(w), q_cpu.append(c)
        w, c = whole_process(pandas_cmd, 1)
        p_wall.append(w), p_cpu.append(c)
    # the floor under any sweep command: the interpreter and what the sweep verb imports before any work
    # (the JSON-only sweep never imports pandas)
    imports_cmd = [python, "-c", "import bayes_cmo.cli.whatif_verbs, bayes_cmo.cli._common"]
    one_blas_thread = {"OPENBLAS_NUM_THREADS": "1", **os.environ}  # as the command runs (bayes_cmo.cli.main)
    model = bc.load_model().with_draws(max(runs, pgmpy_draws), seed=0)
    contexts = model.theory.by_role("context")
    t_cmd, c_cmd, t_imp, c_imp, t_pg, c_pg = [], [], [], [], [], []
    for i in range(max(runs, pgmpy_draws)):
        # interleaved: the command, its imports alone, one draw of the pgmpy loop, so drift in the
        # machine's speed hits all three; the ratio is taken pair by pair
        if i < runs:
            w, c = whole_process(sweep_cmd, 1)
            t_cmd.append(w), c_cmd.append(c)
            w, c = whole_process(imports_cmd, 1, one_blas_thread)
            t_imp.append(w), c_imp.append(c)
        net_i = one_draw(model.network, i)
        t, c = time.perf_counter(), time.process_time()
        pgmpy_sweep_one_draw(net_i, contexts, TARGETS)
        t_pg.append((time.perf_counter() - t) * 1000)  # seconds for 1,000 draws
        c_pg.append((time.process_time() - c) * 1000)
    med = statistics.median
    pairs = min(runs, len(c_pg))
    cpu_ratio = med([c_pg[i] / c_cmd[i] for i in range(pairs)])
    wall_ratio = med([t_pg[i] / t_cmd[i] for i in range(pairs)])
    ceiling = med([c_pg[i] / c_imp[i] for i in range(pairs)])
    print(f"\nend to end (whole processes, median of {runs}):")
    print(f"  bayes-cmo query --target synergy   {med(q_wall):.3f} s wall, {med(q_cpu):.3f} s CPU")
    print(f"  python -c 'import pandas'          {med(p_wall):.3f} s wall, {med(p_cpu):.3f} s CPU")
    ratios = [a / b for a, b in zip(q_wall, p_wall)]
    print(f"  query / import pandas: {med(ratios):.2f}x wall (pair by pair), {med(q_cpu) / med(p_cpu):.2f}x CPU")
    print(f"  {' '.join(['bayes-cmo', *sweep_cmd[1:]])}: {med(t_cmd):.3f} s wall, {med(c_cmd):.3f} s CPU")
    print(f"  its imports alone ({imports_cmd[-1]}): {med(t_imp):.3f} s wall, {med(c_imp):.3f} s CPU;"
          f" the command's own work {med(c_cmd) - med(c_imp):.3f} s CPU")
    print(f"  pgmpy VE loop, same queries, 1,000 draws (scaled from {len(c_pg)} draws, one beside each command run):"
          f" {med(t_pg):.1f} s wall, {med(c_pg):.1f} s CPU (range {min(c_pg):.0f}-{max(c_pg):.0f} s)")
    # CPU against CPU is the figure that holds on a loaded machine (wall times there include waiting)
    print(f"  whole command vs pgmpy loop, pair by pair: {wall_ratio:,.0f}x (wall/wall), {cpu_ratio:,.0f}x (CPU/CPU)")
    print(f"  ceiling with no work after the imports: {ceiling:,.0f}x (CPU/CPU)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="whole-process runs of each command")
    parser.add_argument("--pgmpy-draws", type=int, default=3, help="pgmpy draws timed (end to end: at least --runs)")
    parser.add_argument("--end-to-end", action="store_true", help="only part 3 (whole commands)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    if args.end_to_end:
        warnings.simplefilter("ignore")
        end_to_end(args.runs, args.pgmpy_draws)
        print(f"total wall time {time.perf_counter() - t0:.1f} s")
        return
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
    end_to_end(args.runs, args.pgmpy_draws)
    print(f"total wall time {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
