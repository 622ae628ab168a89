"""The blank (or pre-filled) questionnaire built from a theory."""

from __future__ import annotations

from pathlib import Path

from .._errors import BayesCMOError
from .._lazy import pandas as pd
from ..theory import Theory, scales
from .questions import baseline_questions, link_questions
from .sheets import BASELINE_COLUMNS, LINK_COLUMNS, about_frame, check_suffix, write_questionnaire


def _nearest(mapping: dict[str, float], value: float) -> str:
    return min(mapping, key=lambda key: abs(mapping[key] - value)).replace("_", " ")


def strength_cell(value: float) -> str | float:
    """A strength word when the number is one, else the number."""
    for word, number in scales.STRENGTH_LOGODDS.items():
        if abs(number - value) < 1e-9:
            return word.replace("_", " ")
    return round(float(value), 4)


def direction_of(weight: float) -> str:
    return "raises" if weight > 0 else "lowers" if weight < 0 else "no effect"


def template_frames(theory: Theory, *, prefill: bool = False) -> dict[str, pd.DataFrame]:
    """The sheets ``links`` and ``baselines`` as frames (columns as in the file); answers blank unless ``prefill``."""
    link_rows = []
    for q in link_questions(theory):
        row = dict.fromkeys(LINK_COLUMNS, "")
        row.update(id=q.id, statement=q.statement, citation=q.citation)
        if prefill:
            weight = q.link.weight * q.multiplier
            row["direction"] = direction_of(weight)
            row["strength"] = strength_cell(abs(weight)) if weight else ""
            row["confidence"] = (
                _nearest(scales.CONFIDENCE_SD, q.link.sd) if q.link.sd is not None else q.link.confidence.replace("_", " ")
            )
        link_rows.append(row)
    base_rows = []
    for q in baseline_questions(theory):
        row = dict.fromkeys(BASELINE_COLUMNS, "")
        row.update(id=q.id, question=q.question)
        if prefill:
            row["probability"] = round(float(q.node.baseline[q.node.states.index(q.state)]), 4)
            row["confidence"] = _nearest(scales.CONFIDENCE_ESS, q.node.baseline_confidence)
        base_rows.append(row)
    return {
        "links": pd.DataFrame(link_rows, columns=list(LINK_COLUMNS), dtype=object),
        "baselines": pd.DataFrame(base_rows, columns=list(BASELINE_COLUMNS), dtype=object),
    }


def write_template(
    theory: Theory, out: str | Path, *, expert: str = "", prefill: bool = False, force: bool = False
) -> Path:
    """Write a questionnaire (.xlsx with drop-downs, or one sectioned .csv) for one expert."""
    out = Path(out)
    check_suffix(out)
    if out.is_dir():
        raise BayesCMOError(f"{out}: is a folder; give a file name inside it")
    if theory.path is not None and out.resolve().is_relative_to(Path(theory.path).resolve()):
        raise BayesCMOError(f"{out}: is inside the priors folder {theory.path}; write the questionnaire elsewhere")
    if out.exists() and not force:
        raise BayesCMOError(f"{out}: already exists; choose another name or pass --force to replace it")
    if not out.parent.exists():
        raise BayesCMOError(f"{out.parent}: folder does not exist")
    source = str(theory.path) if theory.path is not None else ""
    notes = ("Pre-filled with the current priors: change whatever you disagree with.",) if prefill else ()
    return write_questionnaire(out, about_frame(expert, source), template_frames(theory, prefill=prefill), notes=notes)
