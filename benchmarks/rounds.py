"""The time view: exact-given-contexts forward-backward (by_round) vs the plain Monte Carlo, at equal standard error.

Same run, same machine: 12 rounds, P(dissolution) and P(trust) by round on the shipped priors, without and
with ``--draws 200``. The Monte Carlo (forward sampling of the whole unrolled network,
:func:`bayes_cmo.inference.survival.survival_monte_carlo`) is timed at 20000 samples and its time scaled to the
standard error of ``by_round`` at round 12 (variance ~ 1/samples). Medians of ``--repeats`` runs, wall and CPU
seconds, and the load average at the start and the end.

Usage: python benchmarks/rounds.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import bayes_cmo as bc
from bayes_cmo.inference.loop import by_round
from bayes_cmo.inference.survival import survival_monte_carlo

ABSORBING = ("dissolution", "dissolved")
ROUNDS = 12


def _median_seconds(fn, repeats):
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu), out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--mc-samples", type=int, default=20_000)
    args = parser.parse_args(argv)
    print(f"load average at start: {os.getloadavg()}")
    model = bc.load_model()
    rows = []
    for draws in (0, 200):
        m = model.with_draws(draws, seed=1) if draws else model
        by_round(m, ["dissolution", "trust"], rounds=2, absorbing=ABSORBING)  # warm the engine's plan cache
        ours_w, ours_c, ours = _median_seconds(
            lambda: by_round(m, ["dissolution", "trust"], rounds=ROUNDS, absorbing=ABSORBING), args.repeats
        )
        mc_w, mc_c, mc = _median_seconds(
            lambda: survival_monte_carlo(m, ROUNDS, samples=args.mc_samples), max(1, args.repeats // 2)
        )
        last = ours[(ours.target == "dissolution") & (ours.state == "sustained") & (ours["round"] == ROUNDS)]
        se_ours = float(last.std_error.iloc[0])
        se_mc = float(mc[mc["round"] == ROUNDS].std_error.iloc[0])
        factor = (se_mc / se_ours) ** 2 if se_ours > 0 else float("inf")
        rows.append((draws, ours_w, ours_c, se_ours, float(last.p.iloc[0]), mc_w, mc_c, se_mc,
                     float(mc[mc["round"] == ROUNDS].p_intact.iloc[0]), mc_w * factor, mc_w * factor / ours_w))
    print(f"{'draws':>5} {'ours wall':>9} {'ours cpu':>8} {'ours se':>8} {'ours p':>7} {'MC wall':>8} {'MC cpu':>7} "
          f"{'MC se':>8} {'MC p':>7} {'MC wall at our se':>17} {'ratio':>7}")
    for d, ow, oc, ose, op, mw, mcpu, mse, mp, sc, ratio in rows:
        print(f"{d:>5} {ow:9.3f} {oc:8.3f} {ose:8.5f} {op:7.4f} {mw:8.3f} {mcpu:7.3f} {mse:8.5f} {mp:7.4f} {sc:17.2f} {ratio:6.1f}x")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
