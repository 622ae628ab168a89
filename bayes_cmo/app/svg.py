"""The theory drawn in layers as inline SVG: hover an arc (or a box) for its citation."""

from __future__ import annotations

import html
import textwrap
from collections.abc import Mapping

from ..plots.layout import BOX_H, BOX_W, arc_points, feedback_points
from ..plots.labels import node_label, state_text
from ..plots.diagram import FEEDBACK_COLOUR, ROLE_COLOURS, SIGN_COLOURS, theory_layout
from ..plots.diagram import fan as _fan
from ..theory import Theory

_SCALE = 80.0  # pixels per layout unit


def _hex(colour: str) -> str:
    if colour.startswith("#"):
        return colour
    grey = int(float(colour) * 255)
    return f"#{grey:02x}{grey:02x}{grey:02x}"


def link_citation(theory: Theory, link) -> str:
    """One link in words with its citation: what the paper says and where."""
    citation = link.citation or {}
    sentence = citation.get("cmo") or citation.get("text") or ""
    where = citation.get("section", "")
    verb = "raises" if link.sign > 0 else "lowers"
    head = f"{node_label(theory, link.source)} {verb} {node_label(theory, link.target).lower()} ({link.strength_label}"
    head += f", confidence {link.confidence}"
    if link.moderator:
        head += f"; depends on {node_label(theory, link.moderator).lower()}"
    if link.lag:
        head += "; in the next round"
    head += ")."
    return " ".join(part for part in (head, f"{where}:" if where else "", f"“{sentence}”" if sentence else "") if part)


def _path_d(pts, codes, x0: float, y0: float) -> str:
    def xy(p):
        return f"{(p[0] - x0) * _SCALE:.1f},{(y0 - p[1]) * _SCALE:.1f}"

    out, i = [], 0
    while i < len(pts):
        code = codes[i]
        if code == 1:
            out.append(f"M{xy(pts[i])}")
            i += 1
        elif code == 2:
            out.append(f"L{xy(pts[i])}")
            i += 1
        else:
            out.append(f"C{xy(pts[i])} {xy(pts[i + 1])} {xy(pts[i + 2])}")
            i += 3
    return " ".join(out)


def network_svg(theory: Theory, settings: Mapping[str, str] | None = None) -> str:
    """SVG of the one-round network plus feedback arcs; nodes set on the page are outlined."""
    settings = {k: v for k, v in (settings or {}).items() if v}
    layout = theory_layout(theory)
    pos = layout.position
    lags = [link for link in theory.links if link.lag]
    ys = [y for _, y in pos.values()]
    x0 = -BOX_W / 2 - 0.75
    y0 = max(ys) + BOX_H / 2 + (0.5 + 0.18 * len(lags) if lags else 0.0) + 0.3
    width = (layout.width + 1.5) * _SCALE
    height = (y0 - (min(ys) - BOX_H / 2 - 0.3)) * _SCALE
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" width="100%" '
        f'role="img" aria-label="The programme theory in layers" style="max-width:{width:.0f}px;font-family:sans-serif">',
        "<defs>",
    ]
    for name, colour in (("up", SIGN_COLOURS[1]), ("down", SIGN_COLOURS[-1]), ("lag", _hex(FEEDBACK_COLOUR))):
        parts.append(
            f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        )
    parts.append("</defs>")
    fan = _fan(layout, list(layout.chains))
    by_pair = {(link.source, link.target): link for link in theory.dag_links}
    for arc, chain in layout.chains.items():
        link = by_pair[arc]
        pts, codes = arc_points(layout, chain, *fan[arc])
        name = "up" if link.sign > 0 else "down"
        dash = ' stroke-dasharray="5,3"' if link.moderator else ""
        parts.append(
            f'<path class="arc" d="{_path_d(pts, codes, x0, y0)}" fill="none" stroke="{SIGN_COLOURS[link.sign]}" '
            f'stroke-width="{0.6 + 0.45 * link.strength:.2f}" opacity="0.8"{dash} marker-end="url(#arrow-{name})">'
            f"<title>{html.escape(link_citation(theory, link))}</title></path>"
        )
    for lane, link in enumerate(lags):
        pts, codes = feedback_points(layout, link.source, link.target, lane)
        parts.append(
            f'<path class="arc" d="{_path_d(pts, codes, x0, y0)}" fill="none" stroke="{_hex(FEEDBACK_COLOUR)}" '
            f'stroke-width="1.2" stroke-dasharray="2,3" marker-end="url(#arrow-lag)">'
            f"<title>{html.escape(link_citation(theory, link))}</title></path>"
        )
    for node in sorted(layout.real):
        x, y = pos[node]
        left, top = (x - BOX_W / 2 - x0) * _SCALE, (y0 - y - BOX_H / 2) * _SCALE
        spec = theory.nodes[node]
        chosen = settings.get(node)
        stroke = ' stroke="#000" stroke-width="2.2"' if chosen else ' stroke="#666" stroke-width="0.7"'
        lines = textwrap.wrap(spec.label, 24)
        if chosen:  # the chosen state on the second line
            lines = [lines[0] + ("…" if len(lines) > 1 else ""), f"= {state_text(chosen)}"]
        lines = lines[:2]
        tip = f"{spec.label} ({spec.role}): {spec.description} Source: {spec.source}"
        parts.append(f'<g class="node" data-node="{html.escape(node)}"><title>{html.escape(tip)}</title>')
        parts.append(
            f'<rect x="{left:.1f}" y="{top:.1f}" width="{BOX_W * _SCALE:.1f}" height="{BOX_H * _SCALE:.1f}" rx="5" '
            f'fill="{ROLE_COLOURS.get(spec.role, "#fff")}"{stroke}/>'
        )
        cy = top + BOX_H * _SCALE / 2 - (len(lines) - 1) * 6.5
        for k, line in enumerate(lines):
            parts.append(
                f'<text x="{left + BOX_W * _SCALE / 2:.1f}" y="{cy + 13 * k + 4:.1f}" font-size="10.5" '
                f'text-anchor="middle">{html.escape(line)}</text>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)
