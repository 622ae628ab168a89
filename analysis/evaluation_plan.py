"""A worked evaluation plan for the default programme theory.

Answers the three planning questions of a phase-2 evaluation team, through
the public API only:

1. What should the case studies measure first to learn about dissolution?
   (value of information, and the best set of three measurements)
2. Which three elicited judgements matter most for synergy and for
   dissolution? (judgement sensitivity: where an elicitation workshop should
   spend its time)
3. How many cases does it take to settle the legal_agreements -> initial_trust
   link? (preposterior simulation, with the elicited and a sceptical prior)

Usage:
    python analysis/evaluation_plan.py [--out analysis/output] [--priors PATH] [--replicates R] [--force]

Prints the plan and writes three figures (voi_dissolution.png,
sensitivity_synergy.png, sample_size_legal_agreements.png) to --out;
existing figures are kept unless --force.
"""

from __future__ import annotations

import sys
from pathlib import Path

import _script
import bayes_cmo as bc
from bayes_cmo.plots.planning import plot_sample_size, plot_sensitivity, plot_voi

LINK = "legal_agreements:initial_trust"
FIGURES = ("voi_dissolution.png", "sensitivity_synergy.png", "sample_size_legal_agreements.png")


def _name(node: str) -> str:
    return node.replace("_", " ")


def _judgement(j: str) -> str:
    if j.startswith("baseline:"):
        return f"the baseline of {_name(j.split(':', 1)[1])}"
    source, target = j.split(":")
    return f"the weight of {_name(source)} -> {_name(target)}"


def _cases_needed(frame, column: str, threshold: float):
    hit = frame.loc[frame[column] >= threshold, "n"]
    return int(hit.iloc[0]) if len(hit) else None


def main(argv=None) -> int:
    made = _script.parser(__doc__, out=_script.HERE / "output", out_help="folder for the figures")
    made.add_argument("--replicates", type=int, default=100, help="simulated studies per size (default 100)")
    return _script.run(_run, made, argv)


def _run(args) -> int:
    out = Path(args.out)
    _script.positive(args.replicates, "--replicates", "simulated studies per size", least=2)
    theory = bc.load_theory(args.priors)
    outputs = _script.outputs(args, {name: "figure" for name in FIGURES}, inputs=[theory.path])
    model = bc.build_model(theory)
    print(f"Evaluation plan for the programme theory in {theory.path} ({len(theory.nodes)} nodes, {len(theory.dag_links)} links)")
    print("=" * 78)

    # 1. What to measure first for dissolution
    ranking = bc.value_of_information(model, "dissolution")
    best = bc.best_measurements(model, "dissolution", k=3)
    print("\n1. WHAT TO MEASURE FIRST to learn whether partnerships dissolve")
    print(f"   Before any measurement P(dissolved) = {bc.posterior(model, 'dissolution')['dissolution'][-1]:.2f}.")
    print("   Single factors, most informative first (bits of information; expected shift of P(dissolved)):")
    for _, row in ranking.head(5).iterrows():
        print(f"     {int(row['rank'])}. {_name(row['node']):<28} {row['mutual_information_bits']:.3f} bits   +/-{row['expected_abs_change']:.2f}")
    print("   Best set of three measurements (each chosen given the ones before):")
    for _, row in best.iterrows():
        print(f"     {int(row['step'])}. {_name(row['node']):<28} adds {row['gain_bits']:.3f} bits (set total {row['set_information_bits']:.3f})")
    print(
        f"   -> Code {', '.join(_name(n) for n in best['node'])} in every case study; "
        "later picks add less because they overlap with the first."
    )

    # 2. Which judgements matter
    print("\n2. WHICH EXPERT JUDGEMENTS MATTER MOST (moved one confidence width either way)")
    tables = {}
    for target in ("synergy", "dissolution"):
        table = bc.judgement_sensitivity(model, target)
        tables[target] = table
        print(f"   P({table['target_state'].iloc[0]}) = {table['p'].iloc[0]:.2f} at the elicited values; it moves most with:")
        for _, row in table.head(3).iterrows():
            print(f"     - {_judgement(row['judgement']):<50} {row['p_minus']:.2f} .. {row['p_plus']:.2f}")
        links = table[table["kind"] == "link weight"].head(1)
        if len(links):
            row = links.iloc[0]
            print(f"     (the most influential link: {_judgement(row['judgement'])}, {row['p_minus']:.2f} .. {row['p_plus']:.2f})")
    print("   -> Spend workshop time re-eliciting these numbers first; the rest barely move the answers.")

    # 3. How many cases for the legal agreements link
    print(f"\n3. HOW MANY CASES to settle {_name(LINK.split(':')[0])} -> {_name(LINK.split(':')[1])}")
    print(f"   ({args.replicates} simulated studies per size, every node coded, 30% blank cells)")
    elicited = bc.sample_size(model, LINK, replicates=args.replicates, progress=False)
    sceptical = bc.sample_size(model, LINK, n=(10, 20, 40, 80, 160, 320), replicates=args.replicates, prior="sceptical", progress=False)
    for name, frame in (("elicited prior", elicited), ("sceptical prior (data alone)", sceptical)):
        print(f"   {name}: prior 90% interval width {frame['prior_ci_width'].iloc[0]:.2f} log-odds")
        for _, row in frame.iterrows():
            print(
                f"     n={int(row['n']):>3}: width {row['expected_ci_width']:.2f}, sign right {row['p_sign_correct']:.0%}, "
                f"interval excludes 0 in {row['p_excludes_zero']:.0%} of studies"
            )
    n80 = _cases_needed(sceptical, "p_excludes_zero", 0.8)
    n_sign = _cases_needed(sceptical, "p_sign_correct", 0.9)
    shrink = 1 - elicited["expected_ci_width"].iloc[-1] / elicited["prior_ci_width"].iloc[0]
    print(
        f"   -> With the experts' prior, {int(elicited['n'].iloc[-1])} cases narrow the interval by only {shrink:.0%}: "
        "the link is already fairly certain and phase 2 mostly confirms it."
    )
    if n_sign is not None:
        print(f"   -> For the data alone to get the direction right in 90% of studies: about {n_sign} cases.")
    if n80 is None:
        print(
            f"   -> For the data alone to show the link matters in 80% of studies takes more than {int(sceptical['n'].iloc[-1])} cases;"
            " size such a study with a larger grid, e.g. bc.sample_size(..., n=(320, 640))."
        )
    else:
        print(f"   -> For the data alone to show the link matters in 80% of studies: about {n80} cases.")

    outputs[FIGURES[0]].save_figure(plot_voi(ranking))
    outputs[FIGURES[1]].save_figure(plot_sensitivity(tables["synergy"]))
    outputs[FIGURES[2]].save_figure(plot_sample_size(sceptical))
    print(f"\nFigures: {', '.join(str(out / f) for f in FIGURES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
