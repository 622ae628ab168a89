"""The network: a theory's CPTs as arrays, pgmpy models, and files for other tools."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..engine import core as _engine
from ..engine.core import NetworkArrays
from .._errors import BayesCMOError, did_you_mean
from .._outputs import check_output
from .elicitation import Parameters, build_cpts, draw_parameters, elicited_parameters, link_designs
from ..theory import Theory, load_theory, priors_path

if TYPE_CHECKING:
    from . import formats

#: Export formats and the suffixes a network file may have.
FORMATS = {"bif": (".bif",), "xmlbif": (".xmlbif", ".xml", ".bifxml"), "net": (".net",), "xdsl": (".xdsl",)}


@dataclass(frozen=True)
class Model:
    """A network ready to query; ``theory`` is None for a network read from a file."""

    network: NetworkArrays
    theory: Theory | None = None
    parameters: Parameters | None = None
    source: str = ""
    seed: int | None = None  # of the draws, and of Monte Carlo views on this model (the time view)

    #: Node labels read from a network file (a theory's labels come from the theory).
    labels: Mapping[str, str] = field(default_factory=dict)

    def label(self, node: str) -> str:
        """The node's label: the theory's, the network file's, else its id."""
        if self.theory is not None and node in self.theory.nodes:
            return self.theory.nodes[node].label
        return self.labels.get(node, node)

    @property
    def variables(self) -> tuple[str, ...]:
        return self.network.variables

    def states(self, node: str) -> tuple[str, ...]:
        return self.network.states[node]

    def marginals(
        self,
        targets: "str | Sequence[str]",
        evidence: "Mapping[str, str] | None" = None,
        do: "Mapping[str, str] | None" = None,
    ) -> dict[str, np.ndarray]:
        """``P(target | evidence, do(...))`` per target: ``(K,)``, or ``(D, K)`` with draws.

        The fast path for many single queries on one model (a what-if page, a
        notebook loop): numpy arrays, no table; the pruned network, the plan and
        its evidence-free part are cached per query pattern on first use.
        """
        targets = [targets] if isinstance(targets, str) else targets
        return _engine.single_marginals(self.network, targets, evidence, do)

    def with_draws(self, n_draws: int, seed: int | None = 0) -> "Model":
        """The same theory with ``n_draws`` parameter draws on a batch axis."""
        if self.theory is None:
            raise BayesCMOError(
                f"{self.source}: credible intervals need a priors folder (link confidences); "
                "a network file has point probabilities only"
            )
        theory = self.theory
        check_table_sizes(theory)
        # from the theory, not the network's tables: those of a drawn model would be made (and counted per draw)
        check_draw_memory(sum(_table_cells(theory).values()), n_draws)
        parameters = draw_parameters(theory, n_draws, seed)
        # the tables are made when first needed (a sweep makes them a block of draws at a time); they
        # sum to one by construction (ordered logits: differences of a cumulative distribution; drawn
        # tables: normalised Dirichlet draws), so only the first draw's are checked in full
        network = _engine.deferred(*_structure(theory), parameters.n_draws, _DrawnTables(theory, parameters), check_sums=False)
        return Model(network=network, theory=theory, parameters=parameters, source=self.source or str(theory.path or ""), seed=seed)


@dataclass(frozen=True)
class _DrawnTables:
    """Some draws' CPTs of a theory, from those draws' parameters."""

    theory: Theory
    parameters: Parameters

    @cached_property
    def designs(self) -> dict[str, np.ndarray]:
        """Each node's link designs: the same for every block of draws."""
        return {node: link_designs(self.theory, node) for node in self.theory.order() if self.theory.parents(node)}

    def __call__(self, draws: slice) -> dict[str, np.ndarray]:
        return build_cpts(self.theory, self.parameters.block(draws), self.designs)


#: Working memory a query over draws needs, per CPT cell per draw (the draws, intermediates, gradients).
_BYTES_PER_CELL_DRAW = 8 * 4


def _memory_budget() -> int:
    """Half the machine's physical memory (8 GiB if unknown)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (AttributeError, ValueError, OSError):
        return 8 * 2**30


def check_draw_memory(
    cells: int, n_draws: int, what: str = "parameter draws", advice: str = " (1,000 are usually plenty)"
) -> None:
    """A one-line error, before any work, when ``n_draws`` copies of ``cells`` numbers would not fit in memory."""
    if not isinstance(n_draws, (int, np.integer)) or isinstance(n_draws, bool):
        return  # draw_parameters names a non-integer
    budget = _memory_budget()
    need = int(cells) * int(n_draws) * _BYTES_PER_CELL_DRAW
    if need > budget:
        fit = max(1, budget // (int(cells) * _BYTES_PER_CELL_DRAW))
        raise BayesCMOError(
            f"{n_draws:,} {what} would need about {need / 2**30:,.0f} GiB of memory for this model; "
            f"at most about {fit:,} fit{advice}"
        )


#: Cells one node's probability table may have (2**24 float64 = 128 MiB; 24 binary parents).
MAX_TABLE_CELLS = 2**24


def _table_cells(theory: Theory) -> dict[str, int]:
    """Each node's number of table cells: its states times its parents' configurations."""
    return {
        node: len(theory.nodes[node].states) * math.prod(len(theory.nodes[p].states) for p in theory.parents(node))
        for node in theory.order()
    }


def check_table_sizes(theory: Theory) -> None:
    """A one-line error, before any table is built, for a node whose parents make its table too large to hold."""
    for node, cells in _table_cells(theory).items():
        parents = theory.parents(node)
        if cells > MAX_TABLE_CELLS:
            shown = ", ".join(parents[:6]) + (f", ... ({len(parents) - 6} more)" if len(parents) > 6 else "")
            raise BayesCMOError(
                f"node '{node}' has {len(parents)} parents ({shown}): its probability table would have "
                f"{cells:,} cells (about {cells * 8 / 2**30:,.1f} GiB), more than the {MAX_TABLE_CELLS:,} that fit; "
                "route some parents through an intermediate mechanism node"
            )


def _structure(theory: Theory) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """The network's variables (in topological order), their states and their parents."""
    order = theory.order()
    return order, {n: theory.nodes[n].states for n in order}, {n: theory.parents(n) for n in order}


def build_model(theory: Theory, parameters: Parameters | None = None, source: str = "") -> Model:
    """theory + parameters -> arrays (batched when the parameters are draws)."""
    check_table_sizes(theory)
    parameters = parameters or elicited_parameters(theory)
    network = NetworkArrays(*_structure(theory), cpts=build_cpts(theory, parameters))
    return Model(network=network, theory=theory, parameters=parameters, source=source or str(theory.path or ""))


def load_model(path: str | Path | None = None) -> Model:
    """A priors folder (None or ``"default"``: the shipped priors) or a BIF / XMLBIF / NET / XDSL file."""
    path = priors_path(path)
    if path.is_dir():
        theory = load_theory(path)
        return build_model(theory, source=str(theory.path))
    if not path.exists():
        raise BayesCMOError(f"{path}: no such priors folder or network file")
    fmt = format_from_suffix(path)
    from . import _pgmpy

    if fmt in ("xmlbif", "xdsl"):
        _check_xml_network(path, fmt)  # name the missing part instead of pgmpy's internals
    network, labels = _pgmpy.read_network(path, fmt)
    if fmt in ("xdsl", "net"):
        from . import formats  # lazy, as pgmpy: only network files need the readers

        text = path.read_text(encoding="utf-8", errors="replace")
        labels = formats.read_xdsl_view(text)[0] if fmt == "xdsl" else formats.read_net_labels(text)
    labels = {v: label for v, label in labels.items() if v in network.states and label != v}
    return Model(network=network, source=str(path), labels=labels)


#: GeNIe node types other than a plain CPT, which pgmpy's XDSL reader skips.
_XDSL_UNSUPPORTED = {"noisymax": "noisy-MAX", "noisyadder": "noisy-adder", "equation": "equation",
                     "deterministic": "deterministic", "decision": "decision", "utility": "utility", "mau": "utility"}


def _check_xml_network(path: Path, fmt: str) -> None:
    """An XMLBIF / XDSL file's structure, checked before pgmpy reads it, as one line naming the part."""
    import xml.etree.ElementTree as ET  # expat: no external entities, entity bombs stopped

    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError, ValueError) as exc:
        raise BayesCMOError(f"{path}: could not read it as a {fmt.upper()} network (not well-formed XML: {str(exc)[:120]})") from None
    if fmt == "xmlbif":
        for i, variable in enumerate(root.iter("VARIABLE"), start=1):
            name = variable.find("NAME")
            if name is None or not (name.text or "").strip():
                raise BayesCMOError(f"{path}: <VARIABLE> number {i} has no <NAME>; every variable needs one")
            if not variable.findall("OUTCOME"):
                raise BayesCMOError(f"{path}: variable '{name.text.strip()}' has no <OUTCOME> states")
        for i, definition in enumerate(root.iter("DEFINITION"), start=1):
            target = definition.find("FOR")
            if target is None or not (target.text or "").strip():
                raise BayesCMOError(f"{path}: <DEFINITION> number {i} has no <FOR>; it must name its variable")
            if definition.find("TABLE") is None:
                raise BayesCMOError(f"{path}: the <DEFINITION> of '{target.text.strip()}' has no <TABLE>")
        return
    nodes = root.find("nodes")
    if nodes is None:
        raise BayesCMOError(f"{path}: could not read it as a XDSL network (no <nodes> section)")
    for i, node in enumerate(nodes, start=1):
        node_id = node.get("id")
        if node.tag in _XDSL_UNSUPPORTED:
            kind = _XDSL_UNSUPPORTED[node.tag]
            raise BayesCMOError(
                f"{path}: node '{node_id or i}' is a GeNIe {kind} node, which is not supported; "
                "change it to a plain CPT node in GeNIe and save again"
            )
        if node.tag == "cpt":
            if not node_id:
                raise BayesCMOError(f"{path}: <cpt> number {i} in <nodes> has no id attribute; every node needs one")
            if node.find("probabilities") is None:
                raise BayesCMOError(f"{path}: node '{node_id}' has no <probabilities>")


def format_from_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml") or (suffix == ".csv" and path.parent.name == "tables"):
        folder = path.parent.parent if suffix == ".csv" else path.parent
        raise BayesCMOError(f"{path}: is one file of a priors folder; give the folder itself (--model {folder})")
    for fmt, suffixes in FORMATS.items():
        if suffix in suffixes:
            return fmt
    known = [s for suffixes in FORMATS.values() for s in suffixes]
    raise BayesCMOError(
        f"{path}: unknown network file type '{suffix}' (expected a priors folder or one of "
        f"{', '.join(known)}){did_you_mean(suffix, known)}"
    )


def to_pgmpy(model: Model):
    """A pgmpy ``DiscreteBayesianNetwork`` (point values only)."""
    from . import _pgmpy

    return _pgmpy.to_pgmpy(model.network)


def export_model(model: Model, path: str | Path, fmt: str | None = None, *, force: bool = False) -> Path:
    """Write the model for GeNIe / Hugin / Netica / other BN tools; atomic, never overwrites unless ``force``."""
    path = Path(path)
    if path.is_dir():
        raise BayesCMOError(f"{path}: is a folder; give a file name such as {path / 'cmo.xdsl'}")
    fmt = (fmt or format_from_suffix(path)).lower()
    if fmt not in FORMATS:
        raise BayesCMOError(f"unknown export format '{fmt}' (expected one of {', '.join(FORMATS)}){did_you_mean(fmt, FORMATS)}")
    implied = next((f for f, suffixes in FORMATS.items() if path.suffix.lower() in suffixes), None)
    if implied is not None and implied != fmt:
        raise BayesCMOError(
            f"{path}: the name ends in '{path.suffix}', which other tools and --model read as {implied}, "
            f"but the format is {fmt}; name it {path.with_suffix(FORMATS[fmt][0]).name}"
        )
    if path.exists() and not force:
        raise BayesCMOError(f"{path}: already exists; choose another --out or pass --force to replace it")
    if not path.parent.exists():
        raise BayesCMOError(f"{path.parent}: folder does not exist")
    output = check_output("", path, "network", inputs=[model.source], force=force)  # never the model it was read from
    output.write_text(network_text(model, fmt))
    return path


def views(model: Model) -> dict[str, formats.NodeView]:
    """Label, role and comment (description, then the citation of every link into it) of each node."""
    from . import formats

    out = {}
    theory = model.theory
    for v in model.variables:
        if theory is None or v not in theory.nodes:
            out[v] = formats.NodeView(label=model.label(v))
            continue
        node = theory.nodes[v]
        lines = [node.description.strip()] if node.description.strip() else []
        if node.source:
            lines.append(f"Source: {node.source}")
        for link in theory.links:
            if link.target == v:
                cite = link.citation or {}
                where = "; ".join(str(cite[k]).strip() for k in ("section", "cmo") if cite.get(k))
                lag = " (next round)" if link.lag else ""
                lines.append(f"{link.source} -> {v} ({link.weight:+.2g} log-odds{lag}){': ' + where if where else ''}")
        out[v] = formats.NodeView(label=node.label, role=node.role, comment="\n".join(lines))
    return out


def network_text(model: Model, fmt: str) -> str:
    """The model as the text of a ``fmt`` file: pgmpy's tables plus labels, layout, colours and comments."""
    from . import _pgmpy, formats

    shown = views(model)
    if fmt in ("bif", "xmlbif"):
        return _pgmpy.network_text(model.network, fmt, {v: {"label": view.label} for v, view in shown.items()})
    text = _pgmpy.network_text(model.network, fmt)
    boxes = formats.layout(model.variables, model.network.parents, shown)
    if fmt == "net":
        return formats.decorate_net(text, shown, boxes)
    from .._version import __version__  # lazy: importlib.metadata is slow to import

    comment = f"{model.source or 'bayes_cmo model'}; written by bayes_cmo {__version__}"
    return formats.decorate_xdsl(text, shown, boxes, name=Path(model.source).name or "bayes_cmo", comment=comment)


def max_abs_difference(a: Model, b: Model) -> float:
    """Largest difference between two models' CPT entries (same variables and states)."""
    worst = 0.0
    for var in a.variables:
        ca, cb = _aligned_cpt(a.network, var, b.network.parents[var]), b.network.cpts[var]
        worst = max(worst, float(np.max(np.abs(ca - cb))))
    return worst


def _aligned_cpt(net: NetworkArrays, var: str, parent_order: tuple[str, ...]) -> np.ndarray:
    axes = [0] + [1 + net.parents[var].index(p) for p in parent_order]
    return np.transpose(net.cpts[var], axes)
