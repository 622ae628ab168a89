"""Result tables as an Excel workbook: one sheet per table, each with a notes row, labels and units.

Sheet layout (so a person reads it and a program can read it back)::

    row 1  notes: what the table is, the command and model it came from
    row 2  a readable label per column ("P at baseline")
    row 3  the unit per column ("probability (0-1)", "log-odds", "bits", ...)
    row 4  the column ids, exactly as in --csv / --json
    row 5+ the rows

``pd.read_excel(path, sheet_name=NAME, skiprows=3)`` gives back the frame.
Written atomically through :func:`bayes_cmo._files.write_atomically`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from pathlib import Path

from ._errors import BayesCMOError
from ._files import spreadsheet_safe, write_atomically
from ._lazy import pandas as pd

#: Units by column id (exact), then by pattern; unlisted columns have none.
_UNITS = {
    "probability": "probability (0-1)",
    "p": "probability (0-1)",
    "p_baseline": "probability (0-1)",
    "delta": "difference of probabilities",
    "ratio": "ratio",
    "delta_logodds": "log-odds",
    "mutual_information_bits": "bits",
    "bits_per_cost": "bits per cost unit",
    "cost": "as in the costs file",
    "difference": "difference of probabilities",
}
_UNIT_PATTERNS = (
    (r"(^|_)bits($|_)", "bits"),
    (r"weight|logodds|_sd$", "log-odds"),
    (r"^(p|probability|a|b)(_|$)|_p$|ci_(low|high)$|^posterior_(low|high)$|^prior_(low|high)$", "probability (0-1)"),
    (r"^delta", "difference of probabilities"),
    (r"^n(_|$)|_ess$|^n_", "cases"),
)
#: Readable labels for the commonest ids; others: underscores as spaces.
_LABELS = {
    "p": "P",
    "p_baseline": "P at baseline",
    "delta": "change in P",
    "delta_logodds": "change in log-odds",
    "ci_low": "interval low",
    "ci_high": "interval high",
    "target_state": "target state",
    "n_both": "cases observing both ends",
}

#: Excel forbids these in sheet names, and allows at most 31 characters.
_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")


def unit(column: str) -> str:
    if column in _UNITS:
        return _UNITS[column]
    for pattern, name in _UNIT_PATTERNS:
        if re.search(pattern, column):
            return name
    return ""


def label(column: str) -> str:
    return _LABELS.get(column, column.replace("_", " "))


def sheet_name(name: str) -> str:
    return (_BAD_SHEET.sub("_", name).strip() or "table")[:31]


def write_workbook(path: str | Path, tables: Mapping[str, pd.DataFrame], notes: Mapping[str, str] | str = "") -> Path:
    """Write ``{sheet: frame}`` to ``path`` (an ``.xlsx`` name), one sheet per table; atomic."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise BayesCMOError(f"--xlsx {path}: expected a file name ending in .xlsx")
    write_atomically(path, lambda tmp: fill_workbook(tmp, tables, notes))
    return path


def fill_workbook(tmp: str, tables: Mapping[str, pd.DataFrame], notes: Mapping[str, str] | str = "") -> None:
    """Write the workbook's bytes into the temporary file ``tmp`` (the atomic writer renames it)."""
    try:
        import openpyxl  # noqa: F401  (pandas' engine)
    except ImportError:
        raise BayesCMOError(f"{tmp}: writing Excel files needs openpyxl (pip install openpyxl)") from None
    buffer = io.BytesIO()  # pandas picks the format from the name; the temporary file's is .tmp
    with pd.ExcelWriter(buffer, engine="openpyxl") as book:
        for name, frame in tables.items():
            sheet = sheet_name(name)
            note = notes.get(name, "") if isinstance(notes, Mapping) else notes
            frame = spreadsheet_safe(frame.reset_index(drop=True))  # no cell runs as a formula
            frame.to_excel(book, sheet_name=sheet, startrow=3, index=False)
            ws = book.sheets[sheet]
            ws.cell(row=1, column=1, value=note or name)
            for j, column in enumerate(frame.columns, start=1):
                ws.cell(row=2, column=j, value=label(str(column)))
                ws.cell(row=3, column=j, value=unit(str(column)))
                ws.column_dimensions[ws.cell(row=4, column=j).column_letter].width = max(10, min(40, len(str(column)) + 4))
            ws.freeze_panes = "A5"
    Path(tmp).write_bytes(buffer.getvalue())

