"""Questionnaire files: writing them (.xlsx through openpyxl, or one sectioned .csv) and reading their cells back.

This module only moves cells; what the answers mean is checked in
:mod:`bayes_cmo.elicit.answers`. openpyxl is imported only when an .xlsx is
written or read.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import BayesCMOError, did_you_mean
from .._files import csv_header, read_csv, write_atomically
from .._lazy import pandas as pd
from ..theory import scales
from .questions import DIRECTIONS

LINK_COLUMNS = ("id", "statement", "citation", "direction", "strength", "confidence", "comment")
BASELINE_COLUMNS = ("id", "question", "probability", "confidence", "comment")
#: What the expert fills in (every other column is ours and may be left as it is).
ANSWER_COLUMNS = {"links": ("direction", "strength", "confidence", "comment"), "baselines": ("probability", "confidence", "comment")}
SHEETS = {"links": LINK_COLUMNS, "baselines": BASELINE_COLUMNS}
ABOUT_KEYS = ("expert", "round", "created", "priors")
SUFFIXES = (".xlsx", ".csv")

DONT_KNOW = "don't know"


def words(mapping: Mapping[str, float]) -> list[str]:
    """Scale keys as an expert reads them: 'very_strong' -> 'very strong'."""
    return [key.replace("_", " ") for key in mapping]


STRENGTH_WORDS = words(scales.STRENGTH_LOGODDS)
CONFIDENCE_WORDS = words(scales.CONFIDENCE_SD)
PROBABILITY_WORDS = [*scales.PROBABILITY_ANCHORS, DONT_KNOW]

INSTRUCTIONS = (
    "How to fill in this questionnaire",
    "",
    "Write your name in the yellow cell next to 'expert' above. Answer on your own: the group sees everyone's "
    "answers only after the first round, and then anonymously.",
    "",
    "Sheet 'links' — one row per step of the programme theory (a CMO link). Each row states what the review "
    "says ('statement') and quotes the paper ('citation'). Tell us what you believe, whatever the paper says:",
    "  direction: raises, lowers, no effect, or don't know (then leave strength and confidence blank).",
    "  strength: how much, from the cause's low pole to its high pole: weak, moderate, strong, very strong "
    "(log-odds 0.5, 1, 2, 3), or type a number of log-odds. Leave it blank for 'no effect'.",
    "  confidence: how sure you are: very low, low, medium, high.",
    "  A row whose id ends in @NODE=STATE asks about the link only when NODE is in STATE: the paper says "
    "context decides which mechanism fires, so the answer may differ (even in sign) between states.",
    "",
    "Sheet 'baselines' — one row per state of each factor: how likely that state is in the situation the "
    "question describes. Give a number from 0 to 1 or a word: certain (1), probable (0.85), expected (0.75), "
    "fifty-fifty (0.5), uncertain (0.25), improbable (0.15), impossible (0). The states of one factor must "
    "sum to 1; you may leave one state blank and it takes the rest. Give a confidence on at least one row "
    "of each factor (very low, low, medium, high = worth 2, 5, 10, 20 cases). Write don't know to skip a factor.",
    "",
    "Use 'comment' for your reasons: they are shown to the group (without your name) in the discussion.",
    "Do not change the 'id' column or the sheet names. Extra columns you add are ignored.",
    "Check the file with:  bayes-cmo elicit check THIS_FILE",
)


@dataclass(frozen=True)
class Sheet:
    """The filled rows of one sheet (or CSV section): ``rows`` are (spreadsheet row number, column -> value)."""

    name: str
    kind: str  # "sheet" (xlsx) or "section" (csv): how error messages name it
    header: tuple[str, ...]
    rows: tuple[tuple[int, dict[str, Any]], ...] = field(default=())


@dataclass(frozen=True)
class RawFile:
    about: Mapping[str, str]
    sheets: Mapping[str, Sheet]
    problems: tuple[str, ...]


def about_frame(expert: str, priors: str, round_: int = 1) -> dict[str, str]:
    created = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
    return {"expert": expert, "round": str(round_), "created": created, "priors": priors}


# ----------------------------------------------------------------------------
# Writing


def check_suffix(path: Path, option: str = "--out") -> None:
    if path.suffix.lower() not in SUFFIXES:
        raise BayesCMOError(f"{option} {path}: expected a .xlsx or .csv file name")


def write_questionnaire(
    path: Path, about: Mapping[str, str], frames: Mapping[str, pd.DataFrame], *, notes: Sequence[str] = ()
) -> Path:
    """Write the sheets ``links`` and ``baselines`` (and any extra columns they carry), atomically."""
    path = Path(path)
    check_suffix(path)
    if path.suffix.lower() == ".xlsx":
        write_atomically(path, lambda tmp: _workbook(about, frames, notes).save(tmp))
    else:
        table = _sectioned(about, frames)
        write_atomically(path, lambda tmp: table.to_csv(tmp, index=False, encoding="utf-8"))
    return path


def _sectioned(about: Mapping[str, str], frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One CSV: a ``section`` column (about / links / baselines), the union of the sheets' columns."""
    about_rows = pd.DataFrame({"section": "about", "id": list(about), "statement": list(about.values())})
    parts = [about_rows] + [frame.assign(section=name) for name, frame in frames.items()]
    table = pd.concat(parts, ignore_index=True)
    columns = ["section"] + list(dict.fromkeys(c for part in parts for c in part.columns if c != "section"))
    return table[columns].fillna("")


_WIDTHS = {"id": 36, "statement": 60, "question": 60, "citation": 70, "comment": 40, "label": 40}
_INPUT_FILL = "FFF7CC"  # pale yellow: the cells the expert fills in


def _workbook(about: Mapping[str, str], frames: Mapping[str, pd.DataFrame], notes: Sequence[str]):
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    fill = PatternFill("solid", start_color=_INPUT_FILL, end_color=_INPUT_FILL)
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    book = Workbook()
    intro = book.active
    intro.title = "instructions"
    intro["A1"] = "bayes_cmo expert questionnaire"
    intro["A1"].font = Font(bold=True, size=14)
    for i, (key, value) in enumerate(about.items(), start=3):
        intro.cell(row=i, column=1, value=key).font = bold
        cell = intro.cell(row=i, column=2, value=value)
        _text_stays_text(cell)
        if key == "expert":
            cell.fill = fill
    start = 4 + len(about)
    for j, line in enumerate([*notes, *([""] if notes else []), *INSTRUCTIONS]):
        cell = intro.cell(row=start + j, column=1, value=line)
        cell.alignment = Alignment(wrap_text=False, vertical="top")
        if j == 0 or line == INSTRUCTIONS[0]:
            cell.font = bold
    intro.column_dimensions["A"].width = 18
    intro.column_dimensions["B"].width = 60

    lists = {
        "direction": (DIRECTIONS, "stop", "Choose raises, lowers, no effect or don't know."),
        "strength": (STRENGTH_WORDS, "warning", "Choose weak, moderate, strong, very strong, or type a number of log-odds."),
        "confidence": (CONFIDENCE_WORDS, "stop", "Choose very low, low, medium or high."),
        "probability": (PROBABILITY_WORDS, "warning", "Type a number from 0 to 1, or choose a word."),
    }
    for name, frame in frames.items():
        sheet = book.create_sheet(name)
        columns = list(frame.columns)
        sheet.append(columns)
        for row in frame.itertuples(index=False):
            sheet.append([None if (isinstance(v, float) and pd.isna(v)) or v == "" else v for v in row])
            for cell in sheet[sheet.max_row]:
                _text_stays_text(cell)
        n = len(frame) + 1
        for j, column in enumerate(columns, start=1):
            letter = sheet.cell(row=1, column=j).column_letter
            sheet.cell(row=1, column=j).font = bold
            sheet.column_dimensions[letter].width = _WIDTHS.get(column, 16)
            answer = column in ANSWER_COLUMNS.get(name, ())
            for i in range(2, n + 1):
                cell = sheet.cell(row=i, column=j)
                if column in _WIDTHS:
                    cell.alignment = wrap
                if answer:
                    cell.fill = fill
            if column in lists and n > 1:
                choices, style, message = lists[column]
                rule = DataValidation(
                    type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True,
                    showErrorMessage=True, errorStyle=style, error=message, errorTitle=column,
                )
                rule.add(f"{letter}2:{letter}{n}")
                sheet.add_data_validation(rule)
        sheet.freeze_panes = "B2"  # header row and the id column stay in view
    return book


def _text_stays_text(cell) -> None:
    """openpyxl stores text starting with '=' as a formula (read back blank); keep it the expert's text."""
    if isinstance(cell.value, str) and cell.value.startswith("="):
        cell.data_type = "s"


# ----------------------------------------------------------------------------
# Reading


def _cell(value: Any) -> Any:
    """A cell as str or number; blank (None, '', spaces) is None."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    return value


def read_raw(path: Path) -> RawFile:
    path = Path(path)
    if path.is_dir():
        raise BayesCMOError(f"{path}: is a folder; expected a questionnaire (.xlsx or .csv)")
    if not path.is_file():
        raise BayesCMOError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix == ".xlsx" or suffix == ".xlsm":
        return _read_xlsx(path)
    if suffix == ".csv":
        return _read_csv(path)
    raise BayesCMOError(f"{path}: expected a questionnaire .xlsx or .csv file, got '{path.suffix}'")


def _read_xlsx(path: Path) -> RawFile:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not a workbook
        raise BayesCMOError(f"{path}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from None
    names = {name.strip().lower(): name for name in book.sheetnames}
    problems: list[str] = []
    about: dict[str, str] = {}
    for name in book.sheetnames:  # the about block sits at the top of the instructions sheet
        if name.strip().lower() in SHEETS:
            continue
        for row in book[name].iter_rows(min_row=1, max_row=12, max_col=2, values_only=True):
            key, value = (_cell(v) for v in (list(row) + [None, None])[:2])
            if isinstance(key, str) and key.lower() in ABOUT_KEYS and value is not None:
                about.setdefault(key.lower(), str(value))
    sheets: dict[str, Sheet] = {}
    for wanted in SHEETS:
        if wanted not in names:
            problems.append(
                f"{path}: no sheet '{wanted}' (found {', '.join(book.sheetnames)})"
                f"{did_you_mean(wanted, book.sheetnames)}"
            )
            continue
        grid = list(book[names[wanted]].iter_rows(values_only=True))
        header = tuple(str(_cell(v) or "").lower() for v in (grid[0] if grid else ()))
        rows = []
        for number, values in enumerate(grid[1:], start=2):
            record = {h: _cell(v) for h, v in zip(header, values) if h}
            if any(v is not None for v in record.values()):
                rows.append((number, record))
        sheets[wanted] = Sheet(wanted, "sheet", header, tuple(rows))
    return RawFile(about, sheets, tuple(problems))


def _read_csv(path: Path) -> RawFile:
    frame = read_csv(path, skip_blank_lines=False)
    header = [h.lower() for h in csv_header(path)]
    if len(header) == len(frame.columns):
        frame.columns = header
    else:
        frame.columns = [str(c).lower() for c in frame.columns]
    if "section" not in frame.columns:
        if len(frame.columns) == 1 and (";" in frame.columns[0] or "\t" in frame.columns[0]):
            sep = "semicolons" if ";" in frame.columns[0] else "tabs"
            raise BayesCMOError(f"{path}: the header row looks separated by {sep}; save it as comma-separated CSV")
        raise BayesCMOError(
            f"{path}: row 1: no column 'section' (a questionnaire CSV has sections about, links, baselines)"
            f"{did_you_mean('section', frame.columns)}"
        )
    problems: list[str] = []
    about: dict[str, str] = {}
    grouped: dict[str, list] = {name: [] for name in SHEETS}
    for number, record in zip(range(2, len(frame) + 2), frame.to_dict(orient="records")):
        record = {k: _cell(v) for k, v in record.items() if k}
        section = (record.pop("section", None) or "").lower()
        if not any(v is not None for v in record.values()):
            continue
        if section == "about":
            if isinstance(record.get("id"), str) and record.get("statement") is not None:
                about[record["id"].lower()] = str(record["statement"])
        elif section in grouped:
            grouped[section].append((number, record))
        else:
            problems.append(
                f"{path}: row {number}, column section: unknown section '{section}' (expected about, links or baselines)"
                f"{did_you_mean(section, ('about', *SHEETS))}"
            )
    sheets = {name: Sheet(name, "section", tuple(frame.columns), tuple(rows)) for name, rows in grouped.items()}
    for name, sheet in sheets.items():
        if not sheet.rows:
            problems.append(f"{path}: section {name}: no rows (expected one row per question, column section = {name})")
    return RawFile(about, sheets, tuple(problems))
