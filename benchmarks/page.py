"""Latency of the what-if page: the compute behind one click, on the shipped priors.

    python benchmarks/page.py [--repeats 7] [--draws 200]

What the page runs per change of a control is ``bayes_cmo.app.state.answer``
(the outcomes with intervals on the change, over ``--draws`` parameter draws);
what to measure next (``next_factors``: value of information per outcome) runs
in the background after the outcomes are shown. Timed, medians over
``--repeats`` clicks, each click setting two factors:

* a new *pattern* of set factors (factors never set together before): the
  page's one fixed plan serves it, nothing is compiled;
* a known pattern with other states;
* an intervention on a factor with causes (its plan warmed at start-up, as the
  page does in the background), and one on two such factors not warmed;
* the same setting again (served from the page's answer cache);
* what to measure next for a new pattern and for a known one (background);
* for comparison in the same run: the same outcomes through ``posterior``
  (the engine's per-pattern fast path, one plan per target: a new pattern
  compiles its plans), and pgmpy's VariableElimination on the point values
  (one query per target, no intervals).

The goal is under 200 ms per click on the 2-core machine; the load average is
printed with the numbers.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time
import warnings

import bayes_cmo as bc
from bayes_cmo.app.state import answer, make_page, next_factors, warm
from bayes_cmo.inference import posterior


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
    load_before = os.getloadavg()[0]

    model = bc.load_model()
    start = time.perf_counter()
    page = make_page(model, n_draws=args.draws)
    t_page = time.perf_counter() - start
    t_warm = timed(lambda: warm(page))  # the page runs this in the background at start-up
    controls = [n for group in page.groups.values() for n in group]
    caused = [n for n in page.controls if n not in page.roots]
    answer(page, {}, voi=False)
    pairs = list(itertools.combinations(controls, 2))[: 2 * args.repeats]
    ours, theirs = pairs[: args.repeats], pairs[args.repeats :]

    def setting(a, b, i, j):
        return {a: model.states(a)[i], b: model.states(b)[j]}

    new_pattern, same_pattern = [], []
    for a, b in ours:
        new_pattern.append(timed(lambda: answer(page, setting(a, b, -1, 0), voi=False)))
        same_pattern.append(timed(lambda: answer(page, setting(a, b, 0, -1), voi=False)))
    do_warm, do_cold = [], []
    for v, w in list(zip(caused, caused[1:]))[: args.repeats]:
        do_warm.append(timed(lambda: answer(page, {v: model.states(v)[-1]}, {v: "do"}, voi=False)))
        do_cold.append(timed(lambda: answer(page, {v: model.states(v)[0], w: model.states(w)[0]},
                                            {v: "do", w: "do"}, voi=False)))
    a, b = ours[0]
    cached = [timed(lambda: answer(page, setting(a, b, -1, 0), voi=False)) for _ in range(args.repeats)]

    voi_new, voi_known = [], []
    for a, b in ours[: max(3, args.repeats // 2)]:
        voi_new.append(timed(lambda: next_factors(page, setting(a, b, 0, 0))))
        voi_known.append(timed(lambda: next_factors(page, setting(a, b, -1, -1))))

    targets = list(page.targets)
    old_new, old_known = [], []
    for a, b in theirs:  # patterns the per-pattern path has not seen
        old_new.append(timed(lambda: posterior(page.drawn, targets, setting(a, b, -1, 0))))
        old_known.append(timed(lambda: posterior(page.drawn, targets, setting(a, b, 0, -1))))

    from bayes_cmo.network import _pgmpy

    infer = _pgmpy.VariableElimination(bc.to_pgmpy(model))
    pgmpy_times = []
    for a, b in ours:
        evidence = setting(a, b, 0, 0)
        pgmpy_times.append(timed(lambda: [infer.query([t], evidence=evidence, show_progress=False) for t in targets]))
    load_after = os.getloadavg()[0]

    def ms(values):
        return 1000 * statistics.median(values)

    print(f"page compute per click, shipped priors, {args.draws} draws, {len(targets)} outcomes, "
          f"{len(page.controls)} controls ({len(caused)} with causes); medians over {len(ours)} clicks; "
          f"load average {load_before:.1f} before, {load_after:.1f} after")
    print(f"  start-up: page and its one plan {1000 * t_page:.0f} ms; warming the intervention plans "
          f"(background) {1000 * t_warm:.0f} ms")
    print("outcomes (shown at once):")
    print(f"  new pattern of set factors:                  {ms(new_pattern):8.1f} ms")
    print(f"  known pattern, other states:                 {ms(same_pattern):8.1f} ms")
    print(f"  do() on a factor with causes (warmed):       {ms(do_warm):8.1f} ms")
    print(f"  do() on two such factors (not warmed):       {ms(do_cold):8.1f} ms")
    print(f"  same setting again (answer cache):           {ms(cached):8.3f} ms")
    print("what to measure next (background, shown when ready):")
    print(f"  new pattern:                                 {ms(voi_new):8.1f} ms")
    print(f"  known pattern:                               {ms(voi_known):8.1f} ms")
    print("for comparison, same run:")
    print(f"  posterior (per-pattern plans), new pattern:  {ms(old_new):8.1f} ms "
          f"(ratio to the page: {statistics.median(old_new) / statistics.median(new_pattern):.1f})")
    print(f"  posterior, known pattern:                    {ms(old_known):8.1f} ms "
          f"(ratio to the page: {statistics.median(old_known) / statistics.median(same_pattern):.1f})")
    print(f"  pgmpy VariableElimination, point values only: {ms(pgmpy_times):7.1f} ms "
          f"(ratio to the page's outcomes with {args.draws} draws: "
          f"{statistics.median(pgmpy_times) / statistics.median(new_pattern):.2f})")
    clicks = new_pattern + same_pattern + do_warm
    print(f"  goal < 200 ms per click (outcomes): {'met' if max(ms(x) for x in (new_pattern, same_pattern, do_warm)) < 200 else 'missed'}"
          f" (slowest single click of those {1000 * max(clicks):.0f} ms)")


if __name__ == "__main__":
    main()
