"""Terminal tables fit 100 columns by default (text wraps); --wide prints everything at full width."""

from __future__ import annotations

import pandas as pd

from bayes_cmo.cli import _common, main


def _width(text: str) -> int:
    """Widest table line (a verb's title line and closing note are prose, not the table)."""
    table = [line for line in text.splitlines() if not line.startswith("(") and "vs baseline" not in line]
    return max(len(line) for line in table)


def test_wraps_text_columns_to_fit():
    frame = pd.DataFrame(
        {
            "link": ["legal_agreements:initial_trust", "prior_collaboration:initial_trust"],
            "section": ["Results > Formalisation; Table 3 (Trust) " * 3, "Results > Historical context " * 3],
            "mutual_information_bits": [0.123456, 0.5],
        }
    )
    text = _common.format_table(frame, width=100)
    assert _width(text) <= 100
    wide = _common.format_table(frame, width=None)
    assert _width(wide) > 100
    # every word survives the wrapping, and the numbers are untouched
    assert " ".join(text.split()).count("Formalisation;") == 3
    assert "0.1235" in text and "0.5000" in text


def test_cli_tables_fit_and_wide_widens(default_model, capsys):
    assert main(["links"]) == 0
    narrow = capsys.readouterr().out
    assert _width(narrow) <= 100
    assert main(["sweep", "--target", "synergy", "--target", "dissolution", "--draws", "20"]) == 0
    sweep = capsys.readouterr().out
    assert _width(sweep) <= 100
    assert main(["sweep", "--target", "synergy", "--target", "dissolution", "--draws", "20", "--wide"]) == 0
    wide = capsys.readouterr().out
    assert _width(wide) > 100
    # --wide does not linger into the next command
    assert main(["links"]) == 0
    assert _width(capsys.readouterr().out) <= 100
