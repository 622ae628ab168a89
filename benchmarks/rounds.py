"""The time view: exact-given-contexts forward-backward vs the old Monte Carlo, at equal standard error.

Same run, same machine: 12 rounds, P(dissolution) and P(trust) by round on the shipped priors, and with
``--draws 200``. The Monte Carlo's time is scaled to the new estimate's standard error (variance ~ 1/samples).

Usage: python benchmarks/rounds.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import bayes_cmo as bc
from bayes_cmo.inference.loop import by_round
from bayes_cmo.inference.rounds import survival

ABSORBING = ("dissolution", "dissolved")


def _median_seconds(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    model = bc.load_model()
    rows = []
    for draws in (0, 200):
        m = model.with_draws(draws, seed=1) if draws else model
        ours_t, ours = _median_seconds(lambda: by_round(m, ["dissolution", "trust"], rounds=12, absorbing=ABSORBING), args.repeats)
        mc_t, mc = _median_seconds(lambda: survival(model.theory, 12, n_draws=draws, samples=20_000), max(1, args.repeats // 2))
        se_ours = ours[(ours.target == "dissolution") & (ours.state == "sustained") & (ours["round"] == 12)].std_error.iloc[0]
        se_mc = mc[mc["round"] == 12].std_error.iloc[0]
        scaled = mc_t * (se_mc / se_ours) ** 2 if se_ours > 0 else float("inf")
        rows.append((draws, ours_t, se_ours, mc_t, se_mc, scaled, scaled / ours_t))
    print(f"{'draws':>5} {'ours s':>8} {'ours se':>9} {'MC s':>8} {'MC se':>8} {'MC s at our se':>15} {'ratio':>7}")
    for draws, ot, ose, mt, mse, sc, ratio in rows:
        print(f"{draws:>5} {ot:8.3f} {ose:9.5f} {mt:8.3f} {mse:8.5f} {sc:15.2f} {ratio:7.1f}x")


if __name__ == "__main__":
    main()
