"""Timings of evaluation planning on the shipped priors.

    python benchmarks/planning.py [--repeats 3]

* VOI of every node for dissolution: batched engine (one contraction per node)
  vs pgmpy VariableElimination (one joint query per node); ratio.
* Judgement sensitivity for synergy: one batched query over all perturbations
  vs rebuilding the model once per perturbed judgement; ratio.
* Sample size, default grid (n = 10, 20, 40, 80; 100 replicates).
Medians over --repeats runs.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np

import bayes_cmo as bc
from bayes_cmo.planning.sensitivity import judgements
from bayes_cmo.update.simulate import set_link_weight
from bayes_cmo.planning.voi import mutual_information_bits


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def voi_pgmpy(model, target):
    from bayes_cmo.network import _pgmpy

    infer = _pgmpy.VariableElimination(bc.to_pgmpy(model))
    out = {}
    for node in model.variables:
        if node == target:
            continue
        factor = infer.query([target, node], joint=True, show_progress=False)
        joint = np.transpose(factor.values, [factor.variables.index(target), factor.variables.index(node)])
        out[node] = float(mutual_information_bits(joint))
    return out


def sensitivity_rebuild(theory, target):
    out = {}
    for j in judgements(theory):
        if j.kind != "link weight":
            continue
        for sign in (-1, 1):
            model = bc.build_model(set_link_weight(theory, j.link, j.value + sign * j.step))
            out[(j.id, sign)] = float(bc.posterior(model, target)[target][-1])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--priors", default=None)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    theory = bc.load_theory(args.priors)
    model = bc.build_model(theory)

    ours = bc.value_of_information(model, "dissolution").set_index("node")["mutual_information_bits"]
    ref = voi_pgmpy(model, "dissolution")
    worst = max(abs(ours[n] - ref[n]) for n in ref)
    t_ours = median_time(lambda: bc.value_of_information(model, "dissolution"), args.repeats)
    t_ref = median_time(lambda: voi_pgmpy(model, "dissolution"), args.repeats)
    print(f"VOI, {len(ref)} nodes for dissolution: engine {t_ours:.3f} s, pgmpy VE {t_ref:.3f} s, "
          f"ratio {t_ref / t_ours:.1f}x (max |difference| {worst:.1e} bits)")

    n_links = sum(j.kind == "link weight" for j in judgements(theory))
    batched = bc.judgement_sensitivity(model, "synergy").set_index("judgement")
    rebuilt = sensitivity_rebuild(theory, "synergy")
    worst = max(abs(batched.loc[j, "p_plus" if s > 0 else "p_minus"] - v) for (j, s), v in rebuilt.items())
    t_batched = median_time(lambda: bc.judgement_sensitivity(model, "synergy"), args.repeats)
    t_rebuild = median_time(lambda: sensitivity_rebuild(theory, "synergy"), args.repeats)
    per_b = t_batched / len(judgements(theory))
    per_r = t_rebuild / n_links
    print(f"Sensitivity for synergy: batched {t_batched:.3f} s for all {len(judgements(theory))} judgements "
          f"(4 perturbations each); rebuilding: {t_rebuild:.3f} s for {n_links} link weights (2 each); "
          f"per judgement ratio {per_r / per_b:.1f}x (max |difference| {worst:.1e})")

    t_size = median_time(lambda: bc.sample_size(model, progress=False), max(1, args.repeats // 2))
    print(f"Sample size, default grid (n = 10, 20, 40, 80; 100 replicates): {t_size:.1f} s")


if __name__ == "__main__":
    main()
