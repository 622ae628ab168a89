"""What network files carry besides the tables: labels, a layered layout, role colours, comments.

pgmpy writes (and reads) the tables; this module adds the presentation other
tools show, and reads the labels back:

* XDSL (GeNIe): ``<extensions><genie>``: each node's ``<name>`` is its label
  (the ``id`` stays the id), ``<interior color>`` by role, ``<position>``
  from :func:`layout`, ``<comment>`` with the description and the citations
  of the links into it; the network's ``<comment>`` holds the model's
  description and provenance.
* Hugin NET: ``label = "...";`` and ``position = (x y);`` in each node block.
* BIF and XMLBIF: a ``label`` property per variable (pgmpy writes node
  attributes as properties and reads them back).

The layout is layered: contexts, then mechanisms, then outcomes; within that,
every arc points down (a node sits below all its parents); rows hold at most
:data:`ROW_WIDTH` nodes; no two boxes overlap.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: Fill colours by role (GeNIe's hex RGB without '#').
ROLE_COLOURS = {"context": "dbe9f6", "mechanism": "fde9c9", "outcome": "d9f2d0"}
OTHER_COLOUR = "eeeeee"
ROLE_ORDER = {"context": 0, "mechanism": 1, "outcome": 2}
#: At most this many nodes side by side; a wider layer wraps onto more rows.
ROW_WIDTH = 7
NODE_HEIGHT = 44
ROW_GAP = 56
COLUMN_GAP = 24
MARGIN = 20


@dataclass(frozen=True)
class NodeView:
    """How one node is shown: label, role (or ""), comment text."""

    label: str
    role: str = ""
    comment: str = ""


def _width(label: str) -> int:
    return int(min(240, max(96, 7 * len(label) + 24)))


def layout(
    variables: Sequence[str], parents: Mapping[str, Sequence[str]], views: Mapping[str, NodeView]
) -> dict[str, tuple[int, int, int, int]]:
    """``{node: (left, top, right, bottom)}`` in pixels: layered by role and depth, no overlaps."""
    order = list(variables)  # topological (NetworkArrays keeps it so)
    level: dict[str, int] = {}
    bands = sorted({ROLE_ORDER.get(views[v].role, 1) for v in order})
    for band in bands:  # each role's band starts below everything of the earlier roles
        floor = max(level.values(), default=-1) + 1
        for v in order:
            if ROLE_ORDER.get(views[v].role, 1) == band:
                level[v] = max([floor, *[level[p] + 1 for p in parents[v] if p in level]])
    for v in order:  # a parent of a later role placed after its child: push children down
        level[v] = max([level[v], *[level[p] + 1 for p in parents[v]]])
    rows: list[list[str]] = []
    x_centre: dict[str, float] = {}
    for lv in sorted(set(level.values())):
        members = [v for v in order if level[v] == lv]
        # barycentre of the parents' positions keeps arcs short; roots keep file order
        members.sort(key=lambda v: (sum(x_centre[p] for p in parents[v]) / len(parents[v])) if parents[v] else order.index(v) * 1e-3 - 1)
        for start in range(0, len(members), ROW_WIDTH):
            row = members[start : start + ROW_WIDTH]
            rows.append(row)
            x = MARGIN
            for v in row:
                x_centre[v] = x + _width(views[v].label) / 2
                x += _width(views[v].label) + COLUMN_GAP
    boxes = {}
    for r, row in enumerate(rows):
        top = MARGIN + r * (NODE_HEIGHT + ROW_GAP)
        x = MARGIN
        for v in row:
            w = _width(views[v].label)
            boxes[v] = (x, top, x + w, top + NODE_HEIGHT)
            x += w + COLUMN_GAP
    return boxes


# ---------------------------------------------------------------------------- XDSL


def decorate_xdsl(text: str, views: Mapping[str, NodeView], boxes, *, name: str = "", comment: str = "") -> str:
    """pgmpy's XDSL with GeNIe's presentation: labels as names, positions, role colours, comments."""
    root = ET.fromstring(text)
    genie = root.find("extensions/genie")
    if genie is None:
        extensions = root.find("extensions")
        if extensions is None:
            extensions = ET.SubElement(root, "extensions")
        genie = ET.SubElement(extensions, "genie", {"version": "1.0", "app": "bayes_cmo", "name": name or root.get("id", "")})
    if name:
        genie.set("name", name)
    genie.set("app", "bayes_cmo")
    existing = {n.get("id"): n for n in genie.findall("node")}
    for n in list(genie):
        genie.remove(n)
    if comment:
        ET.SubElement(genie, "comment").text = comment
    for node_id, view in views.items():
        old = existing.get(node_id)
        node = ET.SubElement(genie, "node", {"id": node_id})
        ET.SubElement(node, "name").text = view.label
        ET.SubElement(node, "interior", {"color": ROLE_COLOURS.get(view.role, OTHER_COLOUR)})
        ET.SubElement(node, "outline", {"color": "000080"})
        ET.SubElement(node, "font", {"color": "000000", "name": "Arial", "size": "9"})
        ET.SubElement(node, "position").text = " ".join(str(int(c)) for c in boxes[node_id])
        if view.comment:
            ET.SubElement(node, "comment").text = view.comment
        barchart = old.find("barchart") if old is not None else None
        if barchart is not None:
            node.append(barchart)
    ET.indent(root, space="    ")
    return "<?xml version='1.0' encoding='utf-8'?>\n" + ET.tostring(root, encoding="unicode") + "\n"


def read_xdsl_view(text: str) -> tuple[dict[str, str], dict[str, tuple[int, ...]]]:
    """Labels (``<name>``) and positions of a GeNIe file's nodes; empty where it has none."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return {}, {}
    labels, boxes = {}, {}
    for node in root.findall("extensions/genie/node"):
        node_id = node.get("id")
        label = node.findtext("name")
        if node_id and label:
            labels[node_id] = label.strip()
        position = node.findtext("position")
        if node_id and position:
            try:
                boxes[node_id] = tuple(int(float(v)) for v in position.split())
            except ValueError:
                pass
    return labels, boxes


# ---------------------------------------------------------------------------- Hugin NET


def _net_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def decorate_net(text: str, views: Mapping[str, NodeView], boxes) -> str:
    """pgmpy's NET with ``label`` and ``position`` (the box centre) in every node block."""

    def node_block(match: re.Match) -> str:
        node_id = match.group(1)
        if node_id not in views:
            return match.group(0)
        left, top, right, bottom = boxes[node_id]
        extra = (
            f"    label = {_net_string(views[node_id].label)};\n"
            f"    position = ({(left + right) // 2} {(top + bottom) // 2});\n"
        )
        return f"node {node_id}{{\n{extra}{match.group(2)}"

    return re.sub(r"node\s+(\w+)\s*\{\n?(.*?\})", node_block, text, flags=re.S)


_NET_NODE = re.compile(r"\bnode\s+(\w+)\s*\{(.*?)\}", re.S)
_NET_LABEL = re.compile(r'\blabel\s*=\s*"((?:[^"\\]|\\.)*)"\s*;')


def read_net_labels(text: str) -> dict[str, str]:
    labels = {}
    for node_id, body in _NET_NODE.findall(text):
        found = _NET_LABEL.search(body)
        if found:
            labels[node_id] = re.sub(r"\\(.)", r"\1", found.group(1))
    return labels
