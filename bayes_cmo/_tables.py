"""The one reader of the user's tables: priors tables, case files, cost files (CSV or Excel).

One set of rules, wherever the reading is unambiguous, for a file saved from a
spreadsheet:

* CSV: UTF-8 with or without a byte-order mark, Windows or Unix line endings,
  ``,`` separators — or ``;`` / tab when the header row has no comma (Excel in
  many locales); in a ``;`` file a decimal comma (``0,7``) is a decimal point
  (see :func:`number`).
* Excel (``.xlsx``/``.xlsm``, read by pandas with openpyxl): the first sheet,
  or the one named; numbers as they show (``2``, not ``2.0``).
* spaces around cells are dropped; trailing columns with neither header nor
  values and rows blank in every cell are ignored (row numbers still count
  them, so they are the rows the spreadsheet shows; the header is row 1).
* header and state names match a known name ignoring case and spaces/hyphens
  for underscores when exactly one name fits (:func:`canonical`).

Other spreadsheet files (``.xls``, ``.ods``, ``.numbers``) are refused with a
hint to save them as ``.xlsx`` or CSV.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._errors import BayesCMOError, did_you_mean
from ._files import decode_text, read_csv
from ._lazy import pandas as pd

#: Spreadsheet files someone may give instead of a CSV export.
SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods", ".numbers")
#: The ones read directly (openpyxl).
EXCEL = (".xlsx", ".xlsm")


def key(name: object) -> str:
    """A name as compared: stripped, lower case, runs of spaces/hyphens as one underscore."""
    return re.sub(r"[\s\-]+", "_", str(name).strip()).lower()


def canonical(name: str, known: Sequence[str]) -> str:
    """``name`` itself if known, else the one known name equal to it by :func:`key`; else ``name`` unchanged."""
    if name in known:
        return name
    matches = list(dict.fromkeys(k for k in known if key(k) == key(name)))
    return matches[0] if len(matches) == 1 else name


def cell(value: object, blanks: Sequence[str] = ("",)) -> str | None:
    """A cell as stripped text; None when empty or one of ``blanks``."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores 2 as 2.0
    text = str(value).strip()
    return None if text == "" or text in blanks else text


def number(text: str, table: "Table") -> float:
    """A numeric cell; a decimal comma is a decimal point in a ``;``-separated file. ValueError if not a number."""
    return float(text.replace(",", ".") if table.separator == ";" else text)


@dataclass(frozen=True)
class Table:
    """A table as strings (``None`` for blanks) and where each row came from.

    ``where``: how messages name the file (``cases.xlsx, sheet 'Cases'`` for a
    workbook); ``rows``: each row's spreadsheet row number (the header is row
    1); ``separator``: the CSV separator found (``""`` for a workbook).
    """

    frame: pd.DataFrame
    rows: tuple[int, ...]
    where: str
    separator: str = ","
    sheet: str | None = None
    header_row: int = 1


def read_table(path: str | Path, *, sheet: str | None = None, header_hint: str = "a column name") -> Table:
    """Read a CSV or Excel table by the module's rules; one-line errors naming the file, row and column."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in SPREADSHEETS and suffix not in EXCEL:
        raise BayesCMOError(f"{path}: a {suffix} spreadsheet cannot be read; save it as .xlsx or as CSV (comma-separated)")
    if suffix in EXCEL:
        grid, name = _excel_grid(path, sheet)
        where, separator = f"{path}, sheet '{name}'", ""
    else:
        if sheet is not None:
            raise BayesCMOError(f"{path}: --sheet {sheet}: a CSV file has no sheets (only .xlsx workbooks do)")
        separator = _separator(path)
        grid = read_csv(path, header=None, sep=separator, encoding="utf-8-sig", skip_blank_lines=False)
        where, name = str(path), None
    cells = [[cell(v) for v in row] for row in grid.to_numpy(dtype=object)]
    used = [i for i, row in enumerate(cells) if any(v is not None for v in row)]
    if not used:
        empty = "the sheet is empty" if separator == "" else "the file is empty"
        raise BayesCMOError(f"{where}: not a readable {'table' if separator == '' else 'CSV file'} ({empty})")
    top = used[0]  # blank rows above the header are skipped
    header = [v or "" for v in cells[top]]
    body = [(i, cells[i]) for i in used[1:]]
    keep = [j for j, column in enumerate(header) if column or any(row[j] is not None for _, row in body)]
    for j in keep:
        if not header[j]:
            raise BayesCMOError(
                f"{where}: row {top + 1}, column {j + 1}: blank header above values; name it ({header_hint}) or delete it"
            )
    frame = pd.DataFrame([[row[j] for j in keep] for _, row in body], columns=[header[j] for j in keep], dtype=object)
    rows = tuple(i + 1 for i, _ in body)  # grid row 0 is spreadsheet row 1
    return Table(frame=frame, rows=rows, where=where, separator=separator, sheet=name, header_row=top + 1)


def canonical_columns(table: Table, known: Sequence[str]) -> pd.DataFrame:
    """The table's frame with headers matched to ``known`` (:func:`canonical`); a repeated column is an error."""
    frame = table.frame.copy()
    frame.columns = [canonical(c, known) for c in frame.columns]
    seen = set()
    for column in frame.columns:
        if column in seen:
            raise BayesCMOError(
                f"{table.where}: row {table.header_row}: duplicate column: column '{column}' appears twice in the header row; merge the two"
            )
        seen.add(column)
    return frame


def _separator(path: Path) -> str:
    """',' unless the first line has no comma but a ';' (Excel in many locales) or a tab."""
    try:
        first = decode_text(Path(path).read_bytes()).split("\n", 1)[0]  # UTF-8 or UTF-16 by its BOM
    except (UnicodeDecodeError, OSError):
        return ","  # read_csv reports it
    if "," not in first:
        for sep in (";", "\t"):
            if sep in first:
                return sep
    return ","


def _excel_grid(path: Path, sheet: str | None) -> tuple[pd.DataFrame, str]:
    """The named (or first) sheet as a grid of raw cells, row 0 = spreadsheet row 1."""
    if path.is_dir():
        raise BayesCMOError(f"{path}: is a folder; expected a file")
    if not path.is_file():
        raise BayesCMOError(f"{path}: file not found")
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except ImportError:
        raise BayesCMOError(f"{path}: reading .xlsx needs openpyxl (pip install openpyxl), or save it as CSV") from None
    except Exception as exc:  # openpyxl/zipfile raise many types for a bad file
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]
        raise BayesCMOError(f"{path}: not a readable Excel workbook ({first}); save it again from Excel, or save it as CSV") from None
    with book:
        names = [str(n) for n in book.sheet_names]
        if sheet is None:
            name = names[0]
        else:
            name = canonical(sheet, names)
            if name not in names:
                raise BayesCMOError(
                    f"{path}: --sheet {sheet}: no such sheet (the workbook has {', '.join(repr(n) for n in names)})"
                    f"{did_you_mean(sheet, names)}"
                )
        grid = pd.read_excel(book, sheet_name=name, header=None, dtype=object, keep_default_na=False)
    return grid, name
