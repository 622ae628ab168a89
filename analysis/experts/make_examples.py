"""How the three EXAMPLE questionnaires in this folder were made (fictional experts, not real answers).

Each starts from the shipped priors (``--prefill``) and departs from them the
way real advisory-group members might, with a reason in the comment:

* ``example_expert_a.xlsx`` — "Example A (fictional commissioner)": agrees with
  the paper, more confident where NHS experience is broad.
* ``example_expert_b.xlsx`` — "Example B (fictional trust director)": thinks
  legal agreements signal distrust (lowers initial trust), sees power imbalance
  as stronger, and rates mandated entry less damaging.
* ``example_expert_c.csv`` — "Example C (fictional academic)", as CSV: unsure
  about legal agreements (no effect), doubts the communication sign flip
  between conflicting cultures, says don't know on combative leadership.

Usage (rewrites the examples; they are committed, so this is only for the record):
    python analysis/experts/make_examples.py [--force]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import bayes_cmo as bc
from bayes_cmo.elicit.sheets import about_frame, write_questionnaire

HERE = Path(__file__).parent
NOTE = ("EXAMPLE ONLY: a fictional expert's answers, made by analysis/experts/make_examples.py to show the workflow.",)

#: id -> (direction, strength, confidence, comment); strength/confidence None leave the prefilled value.
CHANGES = {
    "example_expert_a.xlsx": {
        "power_imbalance:trust": ("lowers", "strong", "high", "Seen in every acquisition I have commissioned."),
        "legal_agreements:initial_trust": ("raises", "moderate", "high", "Clear contracts settle who does what."),
        "cultural_compatibility:conflict": ("lowers", "strong", "high", "Culture clashes drive most disputes."),
    },
    "example_expert_b.xlsx": {
        "legal_agreements:initial_trust": ("lowers", "weak", "medium", "Insisting on a contract signals you do not trust the partner."),
        "power_imbalance:trust": ("lowers", "very strong", "high", "Domination ends trust outright."),
        "conflict:trust@accountability=present": ("lowers", "weak", "medium", "With accountability, conflict barely dents trust."),
    },
    "example_expert_c.csv": {
        "legal_agreements:initial_trust": ("no effect", None, "low", "Contracts matter for accountability, not trust."),
        "communication:conflict@cultural_compatibility=low": ("lowers", "weak", "low", "Talking helps even across cultures."),
        "combative_leadership:power_imbalance@entry_point=funding_pressure": ("don't know", None, None, "No experience of this."),
        "power_imbalance:trust": ("lowers", "moderate", "medium", ""),
    },
}
BASELINES = {
    "example_expert_b.xlsx": {"legal_agreements": {"present": 0.7}, "conflict": {"low": 0.2, "medium": 0.5, "high": 0.3}},
    "example_expert_c.csv": {"legal_agreements": {"present": 0.35}},
}
NAMES = {
    "example_expert_a.xlsx": "Example A (fictional commissioner)",
    "example_expert_b.xlsx": "Example B (fictional trust director)",
    "example_expert_c.csv": "Example C (fictional academic)",
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    theory = bc.load_theory()
    for name, changes in CHANGES.items():
        out = HERE / name
        if out.exists() and not args.force:
            raise SystemExit(f"{out}: exists; pass --force to rewrite the examples")
        frames = bc.template_frames(theory, prefill=True)
        links = frames["links"].astype(object).set_index("id")
        for qid, (direction, strength, confidence, comment) in changes.items():
            links.loc[qid, "direction"] = direction
            if direction in ("no effect", "don't know"):
                links.loc[qid, "strength"] = ""
            elif strength is not None:
                links.loc[qid, "strength"] = strength
            if direction == "don't know":
                links.loc[qid, "confidence"] = ""
            elif confidence is not None:
                links.loc[qid, "confidence"] = confidence
            links.loc[qid, "comment"] = comment
        frames["links"] = links.reset_index()
        base = frames["baselines"].astype(object).set_index("id")
        for node, given in BASELINES.get(name, {}).items():
            for state in theory.nodes[node].states:
                base.loc[f"{node}={state}", "probability"] = given.get(state, "")
            base.loc[f"{node}={theory.nodes[node].states[0]}", "comment"] = "From the partnerships I know."
        frames["baselines"] = base.reset_index()
        about = about_frame(NAMES[name], "shipped priors")
        about["created"] = "2026-12-01T00:00:00+00:00"  # fixed, so the examples do not change on every run
        write_questionnaire(out, about, frames, notes=NOTE)
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
