"""Latency of the what-if page: the compute behind one click, on the shipped priors.

    python benchmarks/page.py [--repeats 7] [--draws 200]

What the page runs per change of a control is ``bayes_cmo.app.state.answer``
(the outcomes with intervals on the change, over ``--draws`` parameter draws,
plus what to measure next for each outcome). Three kinds of click are timed:

* a new *pattern* of set factors (a factor set for the first time: the engine
  plans its contraction for that evidence pattern, then caches the plan);
* a known pattern with other states (the common case: changing a state);
* the same setting again (served from the page's answer cache).

The outcomes alone (no VOI) are timed too, and the same outcomes through
pgmpy's VariableElimination on the point values (one query per target, no
intervals) as the reference in the same run. Medians over ``--repeats``
clicks; the goal is under 200 ms per click on the 2-core machine.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
import warnings

import bayes_cmo as bc
from bayes_cmo.app.state import answer, make_page


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--draws", type=int, default=200)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    model = bc.load_model()
    page = make_page(model, n_draws=args.draws)
    controls = [n for group in page.groups.values() for n in group]
    answer(page, {})  # the baseline's plans, as on the page's first load
    pairs = list(itertools.combinations(controls, 2))[: args.repeats]

    new_pattern = []
    same_pattern = []
    outcomes_only = []
    for a, b in pairs:
        first = {a: model.states(a)[-1], b: model.states(b)[0]}
        other = {a: model.states(a)[0], b: model.states(b)[-1]}
        new_pattern.append(timed(lambda: answer(page, first)))
        same_pattern.append(timed(lambda: answer(page, other)))
        third = {a: model.states(a)[0], b: model.states(b)[0]}
        outcomes_only.append(timed(lambda: answer(page, third, voi=False)))
    cached = [timed(lambda: answer(page, {pairs[0][0]: model.states(pairs[0][0])[-1], pairs[0][1]: model.states(pairs[0][1])[0]}))
              for _ in range(args.repeats)]

    from bayes_cmo.network import _pgmpy

    infer = _pgmpy.VariableElimination(bc.to_pgmpy(model))
    pgmpy_times = []
    for a, b in pairs:
        evidence = {a: model.states(a)[0], b: model.states(b)[0]}
        pgmpy_times.append(
            timed(lambda: [infer.query([t], evidence=evidence, show_progress=False) for t in page.targets])
        )

    def ms(values):
        return 1000 * statistics.median(values)

    print(f"page compute per click, shipped priors, {args.draws} draws, {len(page.targets)} outcomes, "
          f"{len(controls)} controls; medians over {len(pairs)} clicks")
    print(f"  new pattern of set factors (plans compiled): {ms(new_pattern):8.1f} ms")
    print(f"  known pattern, other states:                 {ms(same_pattern):8.1f} ms")
    print(f"  outcomes only (no VOI), known pattern:       {ms(outcomes_only):8.1f} ms")
    print(f"  same setting again (answer cache):           {ms(cached):8.3f} ms")
    print(f"  pgmpy VariableElimination, outcomes at point values only: {ms(pgmpy_times):8.1f} ms "
          f"(ratio to our outcomes with {args.draws} draws: {statistics.median(pgmpy_times) / statistics.median(outcomes_only):.2f})")
    def verdict(values):
        return "meets" if statistics.median(values) < 0.2 else "misses"

    print(f"  goal < 200 ms for a changed state: the outcomes (shown at once) {verdict(outcomes_only)} it; "
          f"with what to measure next (filled in in the background) {verdict(same_pattern)} it")


if __name__ == "__main__":
    main()
