"""Benchmark: the full context sweep with parameter draws, ours vs a pgmpy VariableElimination loop.

The work: every context of the default priors, every state, both targets
(synergy, dissolution), observed mode, for 1,000 parameter draws. Ours is one
call to ``bayes_cmo.sweep`` on the batched model. The pgmpy side loops over
draws: build the draw's network and run VariableElimination for the baseline
and for every (context, state, target); it is timed on a subset of draws and
scaled to the full number, in the same run. Also: single-query latency,
ours vs pgmpy, on the default model and on pgmpy's bundled alarm network.
All times are medians over repeats.

    python benchmarks/sweep.py [--draws 1000] [--pgmpy-draws 5] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bayes_cmo.network._pgmpy import arrays_from_pgmpy, to_pgmpy
from bayes_cmo import Model, load_model, sweep  # noqa: E402
from bayes_cmo.engine.core import NetworkArrays, query# noqa: E402

TARGETS = ("synergy", "dissolution")


def median_time(func, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def one_draw(net: NetworkArrays, i: int) -> NetworkArrays:
    cpts = {v: (net.cpts[v][i] if net.is_batched(v) else net.cpts[v]) for v in net.variables}
    return NetworkArrays(variables=net.variables, states=net.states, parents=net.parents, cpts=cpts)


def pgmpy_sweep_one_draw(net: NetworkArrays, contexts, targets) -> dict:
    """The same sweep for one draw, by looping pgmpy VariableElimination (network build included)."""
    from bayes_cmo.network import _pgmpy

    ve = _pgmpy.VariableElimination(to_pgmpy(net))
    out = {}
    for target in targets:
        out["baseline", target] = ve.query([target], show_progress=False).values
        for context in contexts:
            for state in net.states[context]:
                out[context, state, target] = ve.query([target], evidence={context: state}, show_progress=False).values
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--pgmpy-draws", type=int, default=5, help="draws the pgmpy loop is timed on, then scaled")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", FutureWarning)
    from bayes_cmo.network import _pgmpy  # import cost (~4 s) kept out of the timings

    print(f"machine: {os.cpu_count()} cores; numpy {np.__version__}")
    base = load_model()
    contexts = base.theory.by_role("context")
    n_states = sum(len(base.states(c)) for c in contexts)
    print(
        f"default priors: {len(base.variables)} nodes, {len(contexts)} contexts, {n_states} context states, "
        f"targets {', '.join(TARGETS)}, observed mode"
    )

    t_draws, model = median_time(lambda: base.with_draws(args.draws, seed=args.seed), args.repeats)
    sweep(model, TARGETS, modes="observe")  # warm the contraction plans
    t_ours, frame = median_time(lambda: sweep(model, TARGETS, modes="observe"), args.repeats)
    t_both, _ = median_time(lambda: sweep(model, TARGETS, modes=("observe", "do")), args.repeats)
    print(f"\nours: parameter draws ({args.draws}) built in {t_draws:.3f} s")
    print(f"ours: full sweep, {args.draws} draws, observe       {t_ours:.3f} s  ({len(frame)} rows with 90% intervals)")
    print(f"ours: full sweep, {args.draws} draws, observe + do  {t_both:.3f} s")

    # pgmpy: the same work draw by draw, on a subset of draws, scaled up
    subset = min(args.pgmpy_draws, args.draws)
    per_draw = []
    for i in range(subset):
        net_i = one_draw(model.network, i)
        start = time.perf_counter()
        reference = pgmpy_sweep_one_draw(net_i, contexts, TARGETS)
        per_draw.append(time.perf_counter() - start)
        if i == 0:  # same answers as ours for this draw
            mine = sweep(Model(network=net_i), TARGETS, contexts=contexts, modes="observe")
            worst = 0.0
            for r in mine.itertuples():
                k = net_i.states[r.target].index(r.target_state)
                worst = max(worst, abs(r.p - reference[r.context, r.state, r.target][k]))
                worst = max(worst, abs(r.p_baseline - reference["baseline", r.target][k]))
    t_pgmpy_draw = statistics.median(per_draw)
    t_pgmpy = t_pgmpy_draw * args.draws
    n_queries = len(TARGETS) * (n_states + 1)
    print(
        f"\npgmpy: VariableElimination loop, {n_queries} queries per draw, median {t_pgmpy_draw:.3f} s per draw "
        f"over {subset} draws"
    )
    print(f"pgmpy: scaled to {args.draws} draws                 {t_pgmpy:.1f} s")
    print(f"check: largest difference ours vs pgmpy on draw 0: {worst:.2e}")
    print(f"\nspeed-up: {t_pgmpy / t_ours:.0f}x (target >= 100x); ours under 2 s: {'yes' if t_ours < 2 else 'NO'}")

    # single-query latency
    print("\nsingle query P(target | one finding), point values, median over repeats:")
    alarm_pg = _pgmpy.get_example_model("alarm")
    alarm = arrays_from_pgmpy(alarm_pg)
    cases = [
        ("default", base.network, to_pgmpy(base.network), "synergy", {"legal_agreements": "present"}),
        ("alarm", alarm, alarm_pg, "HYPOVOLEMIA", {"HRBP": alarm.states["HRBP"][-1], "CVP": alarm.states["CVP"][0]}),
    ]
    for name, net, pg_model, target, evidence in cases:
        ve = _pgmpy.VariableElimination(pg_model)
        ours_q = lambda: query(net, [target], [evidence])  # noqa: E731
        theirs_q = lambda: ve.query([target], evidence=evidence, show_progress=False)  # noqa: E731
        ours_q()
        theirs_q()
        n = max(args.repeats, 20)
        t_q, p_ours = median_time(ours_q, n)
        t_p, p_theirs = median_time(theirs_q, n)
        diff = float(np.max(np.abs(p_ours[0] - p_theirs.values)))
        print(
            f"  {name:8s} P({target} | {', '.join(f'{k}={v}' for k, v in evidence.items())}): "
            f"ours {t_q * 1e3:.2f} ms, pgmpy {t_p * 1e3:.2f} ms ({t_p / t_q:.1f}x), difference {diff:.1e}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
