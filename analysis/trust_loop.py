"""The trust-building loop over rounds: a voluntary alliance with a legal agreement vs an enforced merger.

Through the public API only, on the shipped priors (or --priors) with parameter draws (credible bands
from the second-order uncertainty of the elicited judgements): the probability that the partnership
is still intact, round by round, for the two scenarios of scenarios.yaml, each also split by the
state of a chosen context (default: accountability), and trust by round in each scenario.
Writes ``trust_loop_survival.csv``, ``trust_loop_trust.csv`` and ``trust_loop.png``.

Usage:
    python analysis/trust_loop.py [--out FOLDER] [--priors PATH] [--rounds 10] [--draws 200] [--context accountability] [--force]

--out defaults to analysis/output/. Existing files are never replaced unless --force; nothing is
written inside the priors folder.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import _script  # noqa: E402
import bayes_cmo as bc  # noqa: E402
from bayes_cmo.inference.loop import by_round  # noqa: E402
from bayes_cmo.inference.survival import survival_curves  # noqa: E402
from bayes_cmo.plots.rounds import plot_survival_curves  # noqa: E402

SCENARIOS = ("voluntary_alliance_with_legal_agreement", "enforced_merger")
FILES = {"trust_loop_survival.csv": "csv", "trust_loop_trust.csv": "csv", "trust_loop.png": "figure"}


def main(argv=None) -> int:
    made = _script.parser(__doc__, out=_script.HERE / "output", out_help="folder for the tables and the figure")
    made.add_argument("--rounds", type=int, default=10, help="rounds to follow (default 10)")
    made.add_argument("--draws", type=int, default=200, help="parameter draws for the bands (default 200; 0 = point values, ±2 s.e.)")
    made.add_argument("--seed", type=int, default=0, help="seed of the draws and samples (default 0)")
    made.add_argument("--context", default="accountability", help="context whose states split each scenario (default accountability)")
    made.add_argument("--level", type=float, default=0.9, help="credible level (default 0.9)")
    return _script.run(_run, made, argv)


def _run(args) -> int:
    _script.positive(args.rounds, "--rounds", "round")
    model = bc.load_model(args.priors)
    model = model.with_draws(args.draws, seed=args.seed) if args.draws else model
    outputs = _script.outputs(args, FILES, inputs=[model.source])
    headline = model.theory.headline
    curves = survival_curves(model, args.rounds, scenarios=SCENARIOS, context=args.context, level=args.level)
    whole = survival_curves(model, args.rounds, scenarios=SCENARIOS, level=args.level)
    trust = []
    for sid in SCENARIOS:
        scenario = model.theory.scenario(sid)
        frame = by_round(model, "trust", rounds=args.rounds, evidence=dict(scenario.evidence), do=dict(scenario.do),
                         absorbing=(headline.absorbing, headline.absorbing_state), seed=args.seed, level=args.level)
        trust.append(frame.assign(scenario=sid))
    import pandas as pd

    trust = pd.concat(trust, ignore_index=True)
    outputs["trust_loop_survival.csv"].write_csv(pd.concat([whole, curves], ignore_index=True))
    outputs["trust_loop_trust.csv"].write_csv(trust)
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.6))
    plot_survival_curves(whole, ax=left, unit=headline.round or "", title="Still intact: the two scenarios")
    plot_survival_curves(curves, ax=right, unit=headline.round or "", title=f"... split by {args.context.replace('_', ' ')}")
    fig.tight_layout()
    outputs["trust_loop.png"].save_figure(fig)

    print(f"one round = {headline.round}")
    last = whole[whole["round"] == args.rounds].set_index("scenario")
    for sid in SCENARIOS:
        row = last.loc[sid]
        band = f" ({args.level:.0%} interval {row.ci_low:.0%} to {row.ci_high:.0%})" if "ci_low" in row else f" (s.e. {row.std_error:.1%})"
        high = trust[(trust.scenario == sid) & (trust.state == "high")].set_index("round").p
        print(f"{sid}: still intact after {args.rounds} rounds {row.p_intact:.0%}{band}; P(trust high) round 1 {high.iloc[0]:.0%} -> round {args.rounds} {high.iloc[-1]:.0%}")
    print(f"wrote {', '.join(str(outputs[name].path) for name in FILES)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
