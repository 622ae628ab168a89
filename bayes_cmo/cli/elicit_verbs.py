"""elicit template / check / pool / report / feedback: questionnaires for experts, and pooling their answers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .._errors import BayesCMOError
from ..elicit import (
    answers_frame,
    check_questionnaire,
    disagreement,
    pool_experts,
    write_disagreement,
    write_feedback,
    write_pooled,
    write_template,
)
from ..theory import load_theory
from . import _common


def _add_model(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", metavar="DIR",
        help="the priors folder the questionnaires ask about (default: the shipped priors)",
    )


def _add_files(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="filled questionnaires (.xlsx or .csv), one per expert")
    parser.add_argument("--weights", metavar="FILE.csv", help="expert weights: a CSV with columns expert,weight (default: equal)")


def register(subparsers) -> None:
    elicit = subparsers.add_parser(
        "elicit",
        help="expert questionnaires: template, check, pool several experts, disagreement report, second round",
        description=(
            "Ask experts the programme theory's questions without Python: a questionnaire per expert "
            "(template), checked (check), pooled into a priors folder (pool), with where they disagree "
            "(report) and a second-round sheet per expert (feedback), as in the IDEA protocol."
        ),
    )
    verbs = elicit.add_subparsers(dest="elicit_verb", metavar="STEP", required=True)

    template = verbs.add_parser(
        "template", help="write a questionnaire (.xlsx with drop-downs, or .csv) for one expert",
        description="One row per CMO link (per moderator state) with the paper's sentence, one per baseline state. "
        "Example: bayes-cmo elicit template --expert 'A. Smith' --out smith.xlsx",
    )
    _add_model(template)
    template.add_argument("--expert", required=True, metavar="NAME", help="the expert's name, written into the file")
    template.add_argument("--out", required=True, metavar="FILE", help=".xlsx or .csv file to write")
    template.add_argument("--prefill", action="store_true", help="fill in the current priors' answers (default: blank)")
    template.add_argument("--force", action="store_true", help="replace FILE if it exists")
    template.set_defaults(run=run_template)

    check = verbs.add_parser(
        "check", help="list every problem in filled questionnaires (sheet, row, column, what was expected)",
        description="Exit 0 when every file is fine; otherwise print each problem on one line and exit 2.",
    )
    _add_model(check)
    check.add_argument("files", nargs="+", metavar="FILE", help="filled questionnaire(s)")
    check.set_defaults(run=run_check)

    pool = verbs.add_parser(
        "pool", help="pool several experts into a complete priors folder (disagreement widens each judgement)",
        description="Links: moment-matched mixture of the experts' Normal judgements (within + between spread); "
        "baselines: linear opinion pool, equivalent sample size lowered by disagreement. Writes provenance.yaml.",
    )
    _add_model(pool)
    _add_files(pool)
    pool.add_argument("--out", required=True, metavar="DIR", help="priors folder to write (never replaced without --force)")
    pool.add_argument("--force", action="store_true", help="replace DIR if it exists")
    pool.set_defaults(run=run_pool)

    report = verbs.add_parser(
        "report", help="where the experts disagree: per judgement, each answer, the pool and the spread",
        description="Writes disagreement.csv (sign disagreements first, then by the share of variance between "
        "experts), answers.csv and disagreement.png (heatmap experts x links) into --out; prints the top rows.",
    )
    _add_model(report)
    _add_files(report)
    report.add_argument("--out", required=True, metavar="DIR", help="folder for the CSVs and the heatmap")
    report.add_argument("--top", type=int, default=15, help="rows to print (default 15; --json prints all)")
    report.add_argument("--json", action="store_true", help="print every row as JSON")
    report.add_argument("--force", action="store_true", help="replace files in DIR")
    report.set_defaults(run=run_report)

    feedback = verbs.add_parser(
        "feedback", help="second round (IDEA): one expert's answers beside the anonymised group's median and range",
        description="Example: bayes-cmo elicit feedback a.xlsx b.xlsx c.xlsx --expert 'A. Smith' --out smith_round2.xlsx",
    )
    _add_model(feedback)
    feedback.add_argument("files", nargs="+", metavar="FILE", help="the first-round questionnaires")
    feedback.add_argument("--expert", required=True, metavar="NAME", help="whose sheet to write")
    feedback.add_argument("--out", required=True, metavar="FILE.xlsx", help=".xlsx (or .csv) file to write")
    feedback.add_argument("--force", action="store_true", help="replace FILE if it exists")
    feedback.set_defaults(run=run_feedback)


def _theory(args):
    return load_theory(args.model)


def run_template(args: argparse.Namespace) -> int:
    theory = _theory(args)
    out = Path(args.out)
    write_template(theory, out, expert=args.expert, prefill=args.prefill, force=args.force)
    print(f"wrote {out}", file=sys.stderr)
    return 0


def run_check(args: argparse.Namespace) -> int:
    theory = _theory(args)
    problems = [p for f in args.files for p in check_questionnaire(f, theory)]
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"bayes-cmo elicit check: {len(problems)} problem(s)", file=sys.stderr)
        return 2
    for f in args.files:
        print(f"{f}: ok")
    return 0


def run_pool(args: argparse.Namespace) -> int:
    theory = _theory(args)
    if args.weights and Path(args.weights).resolve().is_relative_to(Path(args.out).resolve()):
        raise BayesCMOError(f"{args.out}: holds the weights file {args.weights}; write the pooled priors to a new folder")
    pooled = pool_experts(args.files, theory, weights=args.weights)
    out = write_pooled(pooled, Path(args.out), force=args.force)
    narrower = pooled.links[pooled.links["model_sd"] < 0.8 * pooled.links["sd"]]
    for row in narrower.itertuples(index=False):
        print(
            f"note: {row.id}: the pooled sd is {row.sd:.2f} but the model carries {row.model_sd:.2f} in this "
            "moderator state (one sd per moderated link, scaled by its multiplier)", file=sys.stderr,
        )
    print(_common.format_table(pooled.experts[["expert", "round", "weight", "file"]]))
    print(f"wrote {out} (check it with: bayes-cmo check --model {out})", file=sys.stderr)
    return 0


def run_report(args: argparse.Namespace) -> int:
    if args.top < 1:
        raise BayesCMOError(f"--top must be at least 1, got {args.top}")
    theory = _theory(args)
    pooled = pool_experts(args.files, theory, weights=args.weights)
    for q in pooled.questionnaires:
        if q.path is not None and q.path.resolve().is_relative_to(Path(args.out).resolve()):
            raise BayesCMOError(f"{args.out}: holds the questionnaire {q.path}; write the report to another folder")
    frame = disagreement(pooled)
    write_disagreement(frame, answers_frame(pooled.questionnaires, theory), Path(args.out), force=args.force)
    if args.json:
        _common.emit(frame.drop(columns=["comments"]).assign(comments=frame["comments"]), args)
    else:
        shown = frame.head(args.top)[["rank", "kind", "id", "sign_disagreement", "disagreement", "pooled", "pooled_sd", "low", "high"]]
        print(_common.format_table(shown, digits=2))
    print(f"wrote {Path(args.out) / 'disagreement.csv'}, answers.csv and disagreement.png", file=sys.stderr)
    return 0


def run_feedback(args: argparse.Namespace) -> int:
    theory = _theory(args)
    out = write_feedback(args.files, theory, expert=args.expert, out=Path(args.out), force=args.force)
    print(f"wrote {out}", file=sys.stderr)
    return 0
