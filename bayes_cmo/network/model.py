"""The network: a theory's CPTs as arrays, pgmpy models, and files for other tools."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..engine import core as _engine
from ..engine.core import NetworkArrays
from .._errors import BayesCMOError, did_you_mean
from .._files import write_atomically
from .elicitation import Parameters, build_cpts, draw_parameters, elicited_parameters
from ..theory import Theory, load_theory

#: Export formats and the suffixes a network file may have.
FORMATS = {"bif": (".bif",), "xmlbif": (".xmlbif", ".xml"), "net": (".net",), "xdsl": (".xdsl",)}


@dataclass(frozen=True)
class Model:
    """A network ready to query; ``theory`` is None for a network read from a file."""

    network: NetworkArrays
    theory: Theory | None = None
    parameters: Parameters | None = None
    source: str = ""

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
        check_draw_memory(sum(np.size(c) for c in self.network.cpts.values()), n_draws)
        return build_model(self.theory, draw_parameters(self.theory, n_draws, seed), source=self.source)


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


def build_model(theory: Theory, parameters: Parameters | None = None, source: str = "") -> Model:
    """theory + parameters -> arrays (batched when the parameters are draws)."""
    parameters = parameters or elicited_parameters(theory)
    cpts = build_cpts(theory, parameters)
    order = theory.order()
    network = NetworkArrays(
        variables=order,
        states={n: theory.nodes[n].states for n in order},
        parents={n: theory.parents(n) for n in order},
        cpts=cpts,
    )
    return Model(network=network, theory=theory, parameters=parameters, source=source or str(theory.path or ""))


def load_model(path: str | Path | None = None) -> Model:
    """A priors folder (default: the shipped priors) or a BIF / XMLBIF / NET / XDSL file."""
    if path is None or Path(path).is_dir():
        theory = load_theory(path)
        return build_model(theory, source=str(theory.path))
    path = Path(path)
    if not path.exists():
        raise BayesCMOError(f"{path}: no such priors folder or network file")
    fmt = format_from_suffix(path)
    from . import _pgmpy

    readers = {
        "bif": _pgmpy.BIFReader,
        "xmlbif": _pgmpy.XMLBIFReader,
        "net": _pgmpy.NETReader,
        "xdsl": _pgmpy.XDSLReader,
    }
    try:
        if fmt == "net":
            model = _read_hugin_net(path, readers["net"])
        else:
            model = readers[fmt](str(path)).get_model()
        model.check_model()
    except Exception as exc:  # pgmpy raises many types for a bad file
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise BayesCMOError(f"{path}: could not read it as a {fmt.upper()} network ({first})") from None
    if not model.nodes():
        raise BayesCMOError(f"{path}: could not read it as a {fmt.upper()} network (no variables found)")
    return Model(network=_pgmpy.arrays_from_pgmpy(model), source=str(path))


_HUGIN_COMMENT = re.compile(r'("(?:[^"\\]|\\.)*")|%[^\n]*')


def _read_hugin_net(path: Path, reader):
    """Hugin writes ``% ...`` comments inside potentials, which pgmpy's NET reader cannot parse."""
    text = _HUGIN_COMMENT.sub(lambda m: m.group(1) or "", path.read_text(encoding="utf-8", errors="replace"))
    handle, tmp = tempfile.mkstemp(suffix=".net")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        return reader(tmp).get_model()
    finally:
        os.unlink(tmp)


def format_from_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
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
    from . import _pgmpy

    writers = {
        "bif": _pgmpy.BIFWriter,
        "xmlbif": _pgmpy.XMLBIFWriter,
        "net": _pgmpy.NETWriter,
        "xdsl": _pgmpy.XDSLWriter,
    }
    network = to_pgmpy(model)
    write_atomically(path, writers[fmt](network).write)
    return path


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
