"""Reading a filled questionnaire: every problem at once, each one line naming sheet, row and column.

:func:`check_questionnaire` returns the problems (empty when the file is fine);
:func:`read_questionnaire` returns a :class:`Questionnaire` or raises
:class:`QuestionnaireError` holding them all.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import BayesCMOError, did_you_mean
from .._files import file_sha256
from ..theory import Theory, scales
from .questions import DIRECTIONS, baseline_questions, link_questions
from .sheets import CONFIDENCE_WORDS, DONT_KNOW, SHEETS, STRENGTH_WORDS, Sheet, read_raw

#: Baselines of one node may be off 1 by this much (typed 0.333 three times); they are then rescaled.
SUM_TOLERANCE = 0.005


class QuestionnaireError(BayesCMOError):
    """A questionnaire with mistakes; ``problems`` lists every one (one line each)."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        more = f" (and {len(problems) - 1} more problem(s); 'bayes-cmo elicit check FILE' lists them all)" if len(problems) > 1 else ""
        super().__init__(problems[0] + more)


@dataclass(frozen=True)
class LinkAnswer:
    """One expert's answer on one link question."""

    id: str
    direction: str  # raises / lowers / no effect / don't know
    strength: float | None  # log-odds, None for no effect / don't know
    confidence: str | None  # scale key (very_low ...), None for don't know
    comment: str = ""
    row: int = 0

    @property
    def answered(self) -> bool:
        return self.direction != DONT_KNOW

    @property
    def mean(self) -> float:
        """The expert's weight: sign * strength, 0 for no effect (nan for don't know)."""
        if not self.answered:
            return math.nan
        if self.direction == "no effect":
            return 0.0
        return (1.0 if self.direction == "raises" else -1.0) * float(self.strength)

    @property
    def sd(self) -> float:
        return scales.CONFIDENCE_SD[self.confidence] if self.answered else math.nan


@dataclass(frozen=True)
class BaselineAnswer:
    """One expert's distribution over one node's states (at the reference case or the neutral midpoint)."""

    node: str
    probabilities: tuple[float, ...] | None  # None: don't know
    confidence: str | None
    comments: Mapping[str, str] = field(default_factory=dict)  # state -> comment
    rows: tuple[int, ...] = ()

    @property
    def answered(self) -> bool:
        return self.probabilities is not None

    @property
    def ess(self) -> float:
        """Equivalent sample size, the link scale's cases-worth of the confidence word."""
        return scales.CONFIDENCE_ESS[self.confidence] if self.answered else math.nan


@dataclass(frozen=True)
class Questionnaire:
    """One expert's answers, keyed by question id (links) and node id (baselines)."""

    expert: str
    links: Mapping[str, LinkAnswer]
    baselines: Mapping[str, BaselineAnswer]
    path: Path | None = None
    sha256: str = ""
    modified: str = ""
    round: int = 1
    about: Mapping[str, str] = field(default_factory=dict)


def _key(word: str) -> str:
    """Normalise a scale word: 'Very Strong' / 'very-strong' -> 'very_strong'."""
    return re.sub(r"[\s\-_]+", "_", word.strip().lower())


def _direction(value: Any) -> str | None:
    text = str(value).strip().lower().replace("’", "'")
    synonyms = {"raise": "raises", "increases": "raises", "+": "raises", "lower": "lowers", "decreases": "lowers",
                "-": "lowers", "none": "no effect", "no_effect": "no effect", "dont know": DONT_KNOW,
                "do not know": DONT_KNOW, "?": DONT_KNOW}
    text = synonyms.get(text, text)
    return text if text in DIRECTIONS else None


def _strength(value: Any) -> float | str:
    """log-odds, or a problem text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        word = _key(str(value))
        if word in scales.STRENGTH_LOGODDS:
            return scales.STRENGTH_LOGODDS[word]
        try:
            number = float(str(value))
        except ValueError:
            return (
                f"unknown strength '{value}' (expected {', '.join(STRENGTH_WORDS)} or a number of log-odds)"
                f"{did_you_mean(str(value).strip().lower(), STRENGTH_WORDS)}"
            )
    if not math.isfinite(number) or number < 0:
        return f"strength must be a number >= 0 (the direction says raises or lowers), got {value}"
    return number


def _confidence(value: Any) -> str | None | str:
    word = _key(str(value))
    if word in scales.CONFIDENCE_SD:
        return word
    return None


def _confidence_problem(value: Any) -> str:
    return (
        f"unknown confidence '{value}' (expected {', '.join(CONFIDENCE_WORDS)})"
        f"{did_you_mean(str(value).strip().lower(), CONFIDENCE_WORDS)}"
    )


def _probability(value: Any) -> float | str:
    """A probability in [0, 1], the string DONT_KNOW, or a problem text (prefixed '!')."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        p = float(value)
    else:
        text = str(value).strip().lower().replace("’", "'")
        if text in (DONT_KNOW, "dont know", "?"):
            return DONT_KNOW
        word = re.sub(r"[\s_]+", "-", text)
        if word in scales.PROBABILITY_ANCHORS:
            return scales.PROBABILITY_ANCHORS[word]
        try:
            p = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            return (
                f"!unknown probability '{value}' (expected a number from 0 to 1 or one of "
                f"{', '.join(scales.PROBABILITY_ANCHORS)}){did_you_mean(text, scales.PROBABILITY_ANCHORS)}"
            )
    if not (math.isfinite(p) and 0.0 <= p <= 1.0):
        return f"!probability must be from 0 to 1, got {value}"
    return p


def _modified(path: Path) -> str:
    stamp = _dt.datetime.fromtimestamp(path.stat().st_mtime, tz=_dt.timezone.utc)
    return stamp.replace(microsecond=0).isoformat()


def _parse(path: Path, theory: Theory) -> tuple[Questionnaire | None, list[str]]:
    raw = read_raw(path)
    problems = list(raw.problems)
    links = _parse_links(path, raw.sheets.get("links"), theory, problems)
    baselines = _parse_baselines(path, raw.sheets.get("baselines"), theory, problems)
    if problems:
        return None, problems
    expert = (raw.about.get("expert") or "").strip() or Path(path).stem
    try:
        round_ = int(float(raw.about.get("round", 1) or 1))
    except ValueError:
        round_ = 1
    return (
        Questionnaire(
            expert=expert, links=links, baselines=baselines, path=Path(path), sha256=file_sha256(path),
            modified=_modified(Path(path)), round=round_, about=dict(raw.about),
        ),
        [],
    )


def _where(path: Path, sheet: Sheet, row: int | str, column: str) -> str:
    return f"{path}: {sheet.kind} {sheet.name}, row {row}, column {column}"


def _header_problems(path: Path, sheet: Sheet, problems: list[str]) -> bool:
    missing = [c for c in SHEETS[sheet.name] if c in ("id", *_REQUIRED[sheet.name]) and c not in sheet.header]
    for column in missing:
        spare = [h for h in sheet.header if h and h not in SHEETS[sheet.name]]
        problems.append(
            f"{path}: {sheet.kind} {sheet.name}, row 1: no column '{column}' "
            f"(expected columns {', '.join(SHEETS[sheet.name])}){did_you_mean(column, spare)}"
        )
    return not missing


_REQUIRED = {"links": ("direction", "strength", "confidence"), "baselines": ("probability", "confidence")}


def _ids(path: Path, sheet: Sheet, known: list[str], problems: list[str]) -> list[tuple[int, str, dict]]:
    """Rows with a known, unrepeated id; problems for the rest, and for questions without a row."""
    seen: dict[str, int] = {}
    out = []
    for row, record in sheet.rows:
        qid = record.get("id")
        if qid is None:
            problems.append(f"{_where(path, sheet, row, 'id')}: blank; every row needs the id of the question it answers")
            continue
        qid = str(qid).strip()
        if qid not in known:
            problems.append(
                f"{_where(path, sheet, row, 'id')}: unknown question id '{qid}' (not a question of these priors)"
                f"{did_you_mean(qid, known)}"
            )
            continue
        if qid in seen:
            problems.append(f"{_where(path, sheet, row, 'id')}: '{qid}' is answered twice (also on row {seen[qid]})")
            continue
        seen[qid] = row
        out.append((row, qid, record))
    missing = [q for q in known if q not in seen]
    if missing and sheet.rows:
        shown = ", ".join(missing[:8]) + (f", ... ({len(missing)} in all)" if len(missing) > 8 else "")
        problems.append(f"{path}: {sheet.kind} {sheet.name}, column id: no row for question(s) {shown}")
    return out


def _parse_links(path: Path, sheet: Sheet | None, theory: Theory, problems: list[str]) -> dict[str, LinkAnswer]:
    if sheet is None or not _header_problems(path, sheet, problems):
        return {}
    known = [q.id for q in link_questions(theory)]
    answers = {}
    for row, qid, record in _ids(path, sheet, known, problems):
        before = len(problems)
        where = lambda column: _where(path, sheet, row, column)  # noqa: E731
        value = record.get("direction")
        direction = _direction(value) if value is not None else None
        if value is None:
            problems.append(f"{where('direction')}: blank; expected raises, lowers, no effect or don't know")
        elif direction is None:
            problems.append(
                f"{where('direction')}: unknown direction '{value}' (expected {', '.join(DIRECTIONS)})"
                f"{did_you_mean(str(value).strip().lower(), DIRECTIONS)}"
            )
        strength, confidence = None, None
        if direction in ("raises", "lowers"):
            if record.get("strength") is None:
                problems.append(f"{where('strength')}: blank; expected {', '.join(STRENGTH_WORDS)} or a number of log-odds")
            else:
                got = _strength(record["strength"])
                if isinstance(got, str):
                    problems.append(f"{where('strength')}: {got}")
                else:
                    strength = got
        elif direction == "no effect" and record.get("strength") is not None:
            problems.append(
                f"{where('strength')}: '{record['strength']}' given with direction 'no effect'; "
                "leave strength blank, or choose raises or lowers"
            )
        if direction in ("raises", "lowers", "no effect"):
            if record.get("confidence") is None:
                problems.append(f"{where('confidence')}: blank; expected {', '.join(CONFIDENCE_WORDS)}")
            else:
                confidence = _confidence(record["confidence"])
                if confidence is None:
                    problems.append(f"{where('confidence')}: {_confidence_problem(record['confidence'])}")
        if len(problems) == before:
            answers[qid] = LinkAnswer(qid, direction, strength, confidence, str(record.get("comment") or ""), row)
    return answers


def _parse_baselines(path: Path, sheet: Sheet | None, theory: Theory, problems: list[str]) -> dict[str, BaselineAnswer]:
    if sheet is None or not _header_problems(path, sheet, problems):
        return {}
    questions = {q.id: q for q in baseline_questions(theory)}
    by_node: dict[str, list] = {}
    for row, qid, record in _ids(path, sheet, list(questions), problems):
        by_node.setdefault(questions[qid].node.id, []).append((row, questions[qid].state, record))
    answers = {}
    for node_id, rows in by_node.items():
        node = theory.nodes[node_id]
        before = len(problems)
        given: dict[str, float] = {}
        blanks, dont_know, confidences = [], [], []
        for row, state, record in rows:
            where = lambda column: _where(path, sheet, row, column)  # noqa: E731
            if record.get("probability") is None:
                blanks.append(row)
            else:
                got = _probability(record["probability"])
                if got == DONT_KNOW:
                    dont_know.append(row)
                elif isinstance(got, str):
                    problems.append(f"{where('probability')}: {got[1:]}")
                else:
                    given[state] = got
            if record.get("confidence") is not None:
                confidence = _confidence(record["confidence"])
                if confidence is None:
                    problems.append(f"{where('confidence')}: {_confidence_problem(record['confidence'])}")
                else:
                    confidences.append(confidence)
        numbers = ", ".join(str(r) for r, _, _ in rows)
        span = f"{path}: {sheet.kind} {sheet.name}, rows {numbers} ({node_id}), column"
        comments = {state: str(record.get("comment")) for _, state, record in rows if record.get("comment")}
        if dont_know:
            if given:
                problems.append(f"{span} probability: mixes don't know with numbers; write don't know on every state or on none")
            elif len(problems) == before:
                answers[node_id] = BaselineAnswer(node_id, None, None, comments, tuple(r for r, _, _ in rows))
            continue
        if len(problems) > before:
            continue
        if len(blanks) == len(rows):
            problems.append(f"{span} probability: blank for every state; give a probability for each (one may stay blank) or write don't know")
            continue
        if len(blanks) > 1:
            problems.append(
                f"{span} probability: blank on rows {', '.join(map(str, blanks))}; "
                "give every state a probability but at most one, which then takes the rest"
            )
            continue
        total = sum(given.values())
        if blanks:
            if total > 1 + SUM_TOLERANCE:
                problems.append(f"{span} probability: the given states sum to {total:.4g} > 1, nothing left for the blank one")
                continue
            rest = next(s for r, s, _ in rows if r == blanks[0])
            given[rest] = max(0.0, 1.0 - total)
        elif abs(total - 1.0) > SUM_TOLERANCE:
            problems.append(f"{span} probability: the states sum to {total:.4g}, expected 1 (or leave one blank to take the rest)")
            continue
        if not confidences:
            problems.append(f"{span} confidence: blank on every state; give your confidence (very low, low, medium, high) on at least one")
            continue
        total = sum(given.values())
        probabilities = tuple(given[s] / total for s in node.states)
        # One Dirichlet per node: its most cautious confidence holds for all its states.
        cautious = min(confidences, key=lambda c: scales.CONFIDENCE_ESS[c])
        answers[node_id] = BaselineAnswer(node_id, probabilities, cautious, comments, tuple(r for r, _, _ in rows))
    return answers


def check_questionnaire(path: str | Path, theory: Theory) -> list[str]:
    """Every problem in a filled questionnaire, one line each (empty list: the file is fine)."""
    return _parse(Path(path), theory)[1]


def read_questionnaire(path: str | Path, theory: Theory) -> Questionnaire:
    """One expert's answers; :class:`QuestionnaireError` (a BayesCMOError) lists every problem."""
    questionnaire, problems = _parse(Path(path), theory)
    if problems:
        raise QuestionnaireError(problems)
    return questionnaire
