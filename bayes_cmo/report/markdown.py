"""Render report blocks as Markdown (tables to paste into a paper or a wiki)."""

from __future__ import annotations

from .._lazy import pandas as pd


def _table(frame: pd.DataFrame) -> str:
    return frame.to_markdown(index=False, disable_numparse=True)


def render_markdown(blocks: list) -> str:
    """``report.md``: headings, paragraphs, tables and links to the PNG figures beside it."""
    lines: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "h1":
            lines += [f"# {block[1]}", ""]
        elif kind == "h2":
            lines += [f"## {block[1]}", ""]
        elif kind == "h3":
            lines += [f"### {block[1]}", ""]
        elif kind == "li":
            lines += [f"1. {block[1]}"]
        elif kind == "p":
            lines += ([""] if lines and lines[-1].startswith("1. ") else []) + [block[1], ""]
        elif kind == "note":
            lines += [f"*{block[1]}*", ""]
        elif kind == "table":
            lines += [_table(block[1]), ""]
        elif kind == "figure":
            lines += [f"![{block[2]}]({block[1]})", ""]
    return "\n".join(lines)
