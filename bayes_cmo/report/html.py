"""Render report blocks as one self-contained HTML page (figures embedded, no external requests)."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping

from .._lazy import pandas as pd

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;
color:#222;line-height:1.5}
h1{font-size:1.7rem}h2{font-size:1.3rem;margin-top:2.2rem;border-bottom:1px solid #ddd}h3{font-size:1.1rem}
table{border-collapse:collapse;margin:.8rem 0;font-size:.9rem}th,td{border:1px solid #ccc;padding:.3rem .55rem;
text-align:left;vertical-align:top}th{background:#f2f4f7}tr:nth-child(even) td{background:#fafbfc}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #eee}figcaption{color:#555;font-size:.9rem}
.note{color:#555;font-size:.92rem}.brief{background:#f5f8fc;border-left:4px solid #0072B2;padding:.2rem 1rem .6rem}
"""


def _inline(text: str) -> str:
    """The blocks' light Markdown (**bold**, *italic*) as HTML, everything else escaped."""
    text = html.escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"\*(.+?)\*", r"<em>\1</em>", text)


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(blocks: list, figures: Mapping[str, bytes], title: str = "Programme theory in numbers") -> str:
    """``report.html``: ``figures`` maps a figure's file name to its PNG bytes, embedded as data URIs."""
    parts: list[str] = []
    in_list = in_brief = False
    for block in blocks:
        kind = block[0]
        if kind != "li" and in_list:
            parts.append("</ol>")
            in_list = False
        if kind == "h2" and in_brief:
            parts.append("</section>")
            in_brief = False
        if kind == "h1":
            parts.append(f"<h1>{_inline(block[1])}</h1>")
        elif kind == "h2":
            if block[1] == "In brief":
                parts.append('<section class="brief">')
                in_brief = True
            parts.append(f"<h2>{_inline(block[1])}</h2>")
        elif kind == "h3":
            parts.append(f"<h3>{_inline(block[1])}</h3>")
        elif kind == "li":
            if not in_list:
                parts.append("<ol>")
                in_list = True
            parts.append(f"<li>{_inline(block[1])}</li>")
        elif kind == "p":
            parts.append(f"<p>{_inline(block[1])}</p>")
        elif kind == "note":
            parts.append(f'<p class="note">{_inline(block[1])}</p>')
        elif kind == "table":
            parts.append(_table(block[1]))
        elif kind == "figure" and block[1] in figures:
            png = figures[block[1]]
            data = base64.b64encode(png).decode("ascii")
            pixels = int.from_bytes(png[16:20], "big") if png[:8] == b"\x89PNG\r\n\x1a\n" else 0
            # a very wide figure (the theory) keeps readable labels and scrolls sideways
            style = f' style="max-width:none;width:{pixels / 1.6:.0f}px"' if pixels > 2400 else ""
            parts.append(
                f'<figure style="overflow-x:auto"><img alt="{html.escape(block[2])}"{style} '
                f'src="data:image/png;base64,{data}"><figcaption>{html.escape(block[2])}</figcaption></figure>'
            )
    if in_list:
        parts.append("</ol>")
    if in_brief:
        parts.append("</section>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>\n"
        + "\n".join(parts)
        + "\n</body></html>\n"
    )
