"""Expert elicitation, worked through on the three EXAMPLE questionnaires in analysis/experts/.

The experts are fictional (see analysis/experts/make_examples.py): their files
show the workflow, not anyone's judgement. Through the public API only, this
script checks the three questionnaires, pools them into a priors folder
(disagreement widens each judgement), ranks the judgements by disagreement
(sign disagreements first) with a heatmap, writes each expert's second-round
(IDEA) sheet, and compares the headline answer — how much legal agreements
shift P(synergy) — under the shipped priors and the pooled ones.

Usage:
    python analysis/elicitation.py [--out analysis/output/elicitation] [--priors PATH] [--force] [experts ...]
"""

from __future__ import annotations

from pathlib import Path

import _script
import bayes_cmo as bc
from bayes_cmo.elicit import write_disagreement

HERE = _script.HERE
EXAMPLES = sorted((HERE / "experts").glob("example_expert_*"))


def main(argv=None) -> int:
    made = _script.parser(__doc__, out=_script.HERE / "output" / "elicitation", out_help="folder for the pooled priors and sheets")
    made.add_argument("experts", nargs="*", default=[str(p) for p in EXAMPLES], help="questionnaires (default: the examples)")
    return _script.run(_run, made, argv)


def _run(args) -> int:
    out = Path(args.out)
    theory = bc.load_theory(args.priors)
    inputs = [theory.path, *args.experts]  # never overwritten: the priors and every questionnaire
    # every output checked before any work; the writers check again
    sheets = {f"round2_expert_{i}.xlsx": "xlsx" for i in range(1, len(args.experts) + 1)}
    _script.outputs(args, {"priors_pooled": "folder", **sheets}, inputs=inputs)
    tables = {"disagreement.csv": "csv", "answers.csv": "csv", "disagreement.png": "figure"}
    bc.plan_folder_files("--out", out / "disagreement", tables, inputs=inputs, force=args.force)
    problems = [p for f in args.experts for p in bc.check_questionnaire(f, theory)]
    if problems:
        raise bc.BayesCMOError(problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    example = {Path(f).resolve() for f in args.experts} == {p.resolve() for p in EXAMPLES}

    pooled = bc.pool_experts(args.experts, theory)
    print(f"{len(pooled.experts)} questionnaires{' (EXAMPLES: fictional experts)' if example else ''}:")
    print(pooled.experts[["expert", "round", "weight"]].to_string(index=False))
    folder = bc.write_pooled(pooled, out / "priors_pooled", force=args.force)
    print(f"\nwrote {folder}  (bayes-cmo check --model {folder})")

    report = bc.disagreement(pooled)
    write_disagreement(report, bc.answers_frame(pooled.questionnaires, theory), out / "disagreement", force=args.force)
    experts = list(pooled.experts["expert"])
    print("\nMost contested judgements (sign disagreements first):")
    shown = report.head(8)[["rank", "id", "sign_disagreement", "disagreement", "pooled", "pooled_sd", *experts]]
    print(shown.round(2).to_string(index=False))

    for i, name in enumerate(experts, start=1):
        sheet = bc.write_feedback(pooled, expert=name, out=out / f"round2_expert_{i}.xlsx", force=args.force)
        print(f"wrote {sheet} (second round for {name})")

    shipped, pooled_model = bc.build_model(theory), bc.build_model(pooled.theory)
    rows = []
    for label, model in (("shipped priors", shipped), ("pooled experts", pooled_model)):
        shift = bc.shift(model.with_draws(500, seed=1), "legal_agreements", "synergy")
        row = shift[(shift["state"] == "present") & (shift["mode"] == "do") & (shift["target_state"] == "synergy")].iloc[0]
        rows.append(f"  {label:15s} P(synergy) shift by do(legal agreements present): {100 * row['delta']:+.1f} pp "
                    f"[90% {100 * row['delta_ci_low']:+.1f}, {100 * row['delta_ci_high']:+.1f}]")
    print("\nHeadline, before and after pooling (500 draws):\n" + "\n".join(rows))
    claims = bc.check_claims(pooled_model)
    print(f"claims that hold under the pooled priors: {int(claims['holds'].sum())} of {len(claims)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
