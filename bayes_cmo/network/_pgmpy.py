"""The one place that imports pgmpy, so a rename upstream touches one file.

It also converts between pgmpy models and the engine's :class:`NetworkArrays`.

pgmpy is slow to import (it pulls in scikit-learn and statsmodels), so callers
import this module lazily, inside the functions that need it.
"""

from __future__ import annotations

import os
import re
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .._errors import BayesCMOError
from ..engine.core import NetworkArrays

with warnings.catch_warnings():
    # pgmpy 1.1 warns about its own deprecations at import time.
    warnings.simplefilter("ignore", FutureWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.inference import CausalInference, VariableElimination
    from pgmpy.models import DiscreteBayesianNetwork
    from pgmpy.readwrite import (
        BIFReader,
        BIFWriter,
        NETReader,
        NETWriter,
        XDSLReader,
        XDSLWriter,
        XMLBIFReader,
        XMLBIFWriter,
    )
    from pgmpy.utils import get_example_model as _get_example_model


def get_example_model(name: str) -> DiscreteBayesianNetwork:
    """One of pgmpy's bundled example networks (asia, alarm, child, ...), offline."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return _get_example_model(name)


# ---------------------------------------------------------------------------
# Network files

_READERS = {"bif": BIFReader, "xmlbif": XMLBIFReader, "net": NETReader, "xdsl": XDSLReader}
_WRITERS = {"bif": BIFWriter, "xmlbif": XMLBIFWriter, "net": NETWriter, "xdsl": XDSLWriter}


def read_network(path: Path, fmt: str) -> tuple[NetworkArrays, dict[str, str]]:
    """A BIF / XMLBIF / NET / XDSL file as arrays, and the ``label`` property of BIF/XMLBIF variables.

    Anything pgmpy cannot read is one line naming the file.
    """
    try:
        if fmt == "net":
            model = _read_hugin_net(Path(path))
        elif fmt == "bif":
            model = BIFReader(str(path), include_properties=True).get_model()
        else:
            model = _READERS[fmt](str(path)).get_model()
        model.check_model()
    except Exception as exc:  # pgmpy raises many types for a bad file
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise BayesCMOError(f"{path}: could not read it as a {fmt.upper()} network ({first})") from None
    if not model.nodes():
        raise BayesCMOError(f"{path}: could not read it as a {fmt.upper()} network (no variables found)")
    labels = {str(v): str(attrs["label"]).strip() for v, attrs in model.nodes(data=True) if attrs.get("label")}
    return arrays_from_pgmpy(model), labels


_HUGIN_COMMENT = re.compile(r'("(?:[^"\\]|\\.)*")|%[^\n]*')


def _read_hugin_net(path: Path) -> DiscreteBayesianNetwork:
    """Hugin writes ``% ...`` comments inside potentials, which pgmpy's NET reader cannot parse."""
    text = _HUGIN_COMMENT.sub(lambda m: m.group(1) or "", path.read_text(encoding="utf-8", errors="replace"))
    handle, tmp = tempfile.mkstemp(suffix=".net")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        return NETReader(tmp).get_model()
    finally:
        os.unlink(tmp)


def network_text(net: NetworkArrays, fmt: str, properties: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """``net`` (point values) as the text of a ``fmt`` file, by pgmpy's writer; ``properties`` become
    variable properties (BIF ``property``, XMLBIF ``PROPERTY``)."""
    model = to_pgmpy(net)
    for node, values in (properties or {}).items():
        model.nodes[node].update(values)
    handle, tmp = tempfile.mkstemp(suffix="." + fmt)
    os.close(handle)
    try:
        _WRITERS[fmt](model).write(tmp)
        return Path(tmp).read_text(encoding="utf-8")
    finally:
        os.unlink(tmp)


# ---------------------------------------------------------------------------
# pgmpy conversion


def arrays_from_pgmpy(model: DiscreteBayesianNetwork) -> NetworkArrays:
    """Convert a pgmpy ``DiscreteBayesianNetwork`` (with CPDs) to arrays.

    ``TabularCPD.values`` is N-D in ``cpd.variables`` order: the variable,
    then its evidence in the CPD's own order.  (``cpd.get_evidence()`` returns
    that evidence *reversed*, so it is not used.)  State names are taken from
    ``cpd.state_names`` and converted to ``str``.
    """
    cpds = {}
    for cpd in model.get_cpds():
        cpds[str(cpd.variable)] = cpd
    nodes = [str(n) for n in model.nodes()]
    missing = [n for n in nodes if n not in cpds]
    if missing:
        raise BayesCMOError(f"pgmpy model has no CPD for {missing}")

    parents: dict[str, tuple[str, ...]] = {}
    states: dict[str, tuple[str, ...]] = {}
    values: dict[str, np.ndarray] = {}
    for name in nodes:
        cpd = cpds[name]
        cpd_vars = [str(x) for x in cpd.variables]
        ps = tuple(cpd_vars[1:])
        graph_parents = {str(p) for p in model.get_parents(cpd.variable)}
        if set(ps) != graph_parents:
            raise BayesCMOError(
                f"CPD of '{name}' conditions on {sorted(ps)} but the graph gives parents "
                f"{sorted(graph_parents)}"
            )
        parents[name] = ps
        states[name] = tuple(str(s) for s in cpd.state_names[cpd.variable])
        arr = np.asarray(cpd.values, dtype=np.float64)
        cards = tuple(int(c) for c in cpd.cardinality)
        values[name] = arr.reshape(cards)
    order = _topological_order(nodes, parents)
    return NetworkArrays(
        variables=tuple(order),
        states={v: states[v] for v in order},
        parents={v: parents[v] for v in order},
        cpts={v: values[v] for v in order},
    )


def _topological_order(nodes: Sequence[str], parents: Mapping[str, Sequence[str]]) -> list[str]:
    """Kahn's algorithm, stable with respect to ``nodes`` order."""
    remaining = {v: set(parents[v]) for v in nodes}
    order: list[str] = []
    placed: set[str] = set()
    while remaining:
        ready = [v for v in nodes if v in remaining and remaining[v] <= placed]
        if not ready:
            raise BayesCMOError(f"graph has a cycle among {sorted(remaining)}")
        for v in ready:
            order.append(v)
            placed.add(v)
            del remaining[v]
    return order


def to_pgmpy(net: NetworkArrays) -> DiscreteBayesianNetwork:
    """Convert an unbatched network back to a pgmpy ``DiscreteBayesianNetwork``."""
    if net.batch_size is not None:
        raise BayesCMOError(
            f"cannot convert a batched network ({net.batch_size} draws) to pgmpy; "
            "convert one draw at a time"
        )
    model = DiscreteBayesianNetwork()
    model.add_nodes_from(net.variables)
    model.add_edges_from([(p, v) for v in net.variables for p in net.parents[v]])
    cpds = []
    for v in net.variables:
        ps = list(net.parents[v])
        card = len(net.states[v])
        cpds.append(
            TabularCPD(
                variable=v,
                variable_card=card,
                values=np.array(net.cpts[v]).reshape(card, -1),
                evidence=ps or None,
                evidence_card=[len(net.states[p]) for p in ps] or None,
                state_names={x: list(net.states[x]) for x in [v, *ps]},
            )
        )
    model.add_cpds(*cpds)
    return model


__all__ = [
    "BIFReader",
    "BIFWriter",
    "CausalInference",
    "DiscreteBayesianNetwork",
    "NETReader",
    "NETWriter",
    "TabularCPD",
    "VariableElimination",
    "XDSLReader",
    "XDSLWriter",
    "XMLBIFReader",
    "XMLBIFWriter",
    "arrays_from_pgmpy",
    "get_example_model",
    "read_network",
    "network_text",
    "to_pgmpy",
]
