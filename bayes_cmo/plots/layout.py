"""A layered (Sugiyama-style) layout of the theory: columns by depth, arcs routed between labels.

Pure (numpy only), shared by the theory figure and the page's network drawing.
Nodes stand in columns by longest path from a root; an arc that skips columns
passes through a *waypoint* slot of its own in every column it crosses, so it
never runs through a label; the order within each column is chosen by
barycentre sweeps to reduce crossings. Coordinates are in label units:
column ``c`` at ``x = c * PITCH_X``, slot ``i`` at ``y = -i * PITCH_Y``;
a label box is ``BOX_W`` x ``BOX_H`` around its point.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

PITCH_X, PITCH_Y = 2.6, 0.46
BOX_W, BOX_H = 1.8, 0.36
_SWEEPS = 12


@dataclass(frozen=True)
class Layout:
    """Columns of node ids and waypoints (``('~', source, target, column)``), and each arc's chain."""

    columns: tuple[tuple, ...]
    chains: dict  # (source, target) -> tuple of vertices, source first
    real: frozenset

    @cached_property
    def position(self) -> dict:
        pos = {}
        tallest = max(len(c) for c in self.columns)
        for c, column in enumerate(self.columns):
            top = (tallest - len(column)) / 2.0  # centre each column
            for i, v in enumerate(column):
                pos[v] = (c * PITCH_X, -(top + i) * PITCH_Y)
        return pos

    @property
    def width(self) -> float:
        return (len(self.columns) - 1) * PITCH_X + BOX_W

    @property
    def height(self) -> float:
        return (max(len(c) for c in self.columns) - 1) * PITCH_Y + BOX_H


def _depths(nodes: list[str], parents: dict[str, list[str]]) -> dict[str, int]:
    depth: dict[str, int] = {}

    def visit(n: str) -> int:
        if n not in depth:
            depth[n] = 1 + max((visit(p) for p in parents.get(n, ())), default=-1)
        return depth[n]

    for n in nodes:
        visit(n)
    return depth


def layered(nodes: list[str], edges: list[tuple[str, str]], order_key=None) -> Layout:
    """Layout of a DAG given as ``nodes`` (any order) and ``edges`` (source, target)."""
    parents: dict[str, list[str]] = {}
    for s, t in edges:
        parents.setdefault(t, []).append(s)
    depth = _depths(nodes, parents)
    # outcomes with no children sit in the last column, so the eye ends there
    last = max(depth.values(), default=0)
    has_child = {s for s, _ in edges}
    depth = {n: (last if n not in has_child and n in parents else d) for n, d in depth.items()}
    columns: list[list] = [[] for _ in range(last + 1)]
    key = order_key or (lambda n: nodes.index(n))
    for n in sorted(nodes, key=key):
        columns[depth[n]].append(n)
    chains = {}
    for s, t in edges:
        chain = [s] + [("~", s, t, c) for c in range(depth[s] + 1, depth[t])] + [t]
        for v in chain[1:-1]:
            columns[v[3]].append(v)
        chains[(s, t)] = tuple(chain)
    up: dict = {}
    down: dict = {}
    for chain in chains.values():
        for a, b in zip(chain, chain[1:]):
            down.setdefault(a, []).append(b)
            up.setdefault(b, []).append(a)
    for sweep in range(_SWEEPS):
        forward = sweep % 2 == 0
        span = range(1, len(columns)) if forward else range(len(columns) - 2, -1, -1)
        for c in span:
            ref = columns[c - 1] if forward else columns[c + 1]
            rank = {v: i for i, v in enumerate(ref)}
            links = up if forward else down
            here = {v: i for i, v in enumerate(columns[c])}

            def bary(v, links=links, rank=rank, here=here):
                near = [rank[u] for u in links.get(v, ()) if u in rank]
                return (np.mean(near) if near else here[v], here[v])

            columns[c].sort(key=bary)
    return Layout(tuple(tuple(c) for c in columns), chains, frozenset(nodes))


def arc_points(layout: Layout, chain: tuple, exit_dy: float = 0.0, entry_dy: float = 0.0) -> tuple[list, list]:
    """Path vertices and matplotlib-style codes (1 move, 2 line, 4 cubic) of one arc through its waypoints.

    Between columns the arc is a cubic curve inside the gap; through a
    waypoint it is a straight run across the column at the waypoint's own height.
    """
    pos = layout.position
    half = BOX_W / 2.0
    x0, y0 = pos[chain[0]]
    pts, codes = [(x0 + half, y0 + exit_dy)], [1]
    for i, (a, b) in enumerate(zip(chain, chain[1:])):
        xa, ya = pos[a]
        xb, yb = pos[b]
        ya = ya + (exit_dy if i == 0 else 0.0)
        yb = yb + (entry_dy if b == chain[-1] else 0.0)
        start, end = xa + half, xb - half
        mid = (end - start) / 2.0
        pts += [(start + mid, ya), (end - mid, yb), (end, yb)]
        codes += [4, 4, 4]
        if b != chain[-1]:  # across the waypoint's column
            pts.append((xb + half, yb))
            codes.append(2)
    return pts, codes


def feedback_points(layout: Layout, source: str, target: str, lane: int) -> tuple[list, list]:
    """A next-round arc: out of the source's right side, along a lane above every label, into the target's left."""
    pos = layout.position
    half, gap = BOX_W / 2.0, (PITCH_X - BOX_W) / 2.0
    xs, ys = pos[source]
    xt, yt = pos[target]
    top = max(y for _, y in pos.values()) + BOX_H + 0.25 + 0.18 * lane
    out_x = xs + half + gap * (0.35 + 0.1 * lane)
    in_x = xt - half - gap * (0.35 + 0.1 * lane)
    pts = [(xs + half, ys), (out_x, ys), (out_x, top), (in_x, top), (in_x, yt), (xt - half, yt)]
    return pts, [1, 2, 2, 2, 2, 2]
