"""What-if queries: P(target | evidence) or P(target | do(intervention))."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np

from .. import _validate as check
from .._errors import ZeroProbabilityEvidence
from .._lazy import pandas as pd
from ..engine import core as _engine
from ..network.model import Model
from ..theory import Scenario
from .background import Background, check_model, check_targets, free_targets, impossible
from .summary import DEFAULT_LEVEL, summarise

__all__ = ["DEFAULT_LEVEL", "mean_score", "posterior", "what_if"]


def posterior(
    model: Model,
    targets: Sequence[str] | str,
    evidence: Mapping[str, str] | Background | None = None,
    do: Mapping[str, str] | None = None,
    *,
    scenario: Scenario | str | None = None,
) -> dict[str, np.ndarray]:
    """P(target | evidence, do) per target: ``(K,)``, or ``(D, K)`` with draws (arrays, not a frame)."""
    targets = check_targets(check_model(model), targets)
    background = Background.of(model, evidence, do, scenario)
    free_targets(targets, background)
    evidence, do = dict(background.evidence), dict(background.do)
    try:
        # the fast path: plans and their evidence-free parts cached per network (per block of its
        # draws) and query pattern
        parts = [_engine.single_marginals(block, targets, evidence, do) for block in _engine.draw_blocks(model.network)]
    except ZeroProbabilityEvidence:
        raise impossible(background, background.network(model)) from None
    return parts[0] if len(parts) == 1 else {t: np.concatenate([part[t] for part in parts]) for t in targets}


def what_if(
    model: Model,
    targets: Sequence[str] | str,
    *,
    evidence: Mapping[str, str] | Background | None = None,
    do: Mapping[str, str] | None = None,
    scenario: Scenario | str | None = None,
    level: float = DEFAULT_LEVEL,
    progress: bool = False,
) -> pd.DataFrame:
    """Tidy table: one row per target state with ``p`` (and ``ci_low``/``ci_high`` with draws).

    Columns: ``target``, ``state``, ``p``, ``estimate``. With draws (``model.with_draws``),
    ``p`` is the mean over draws and the interval the central ``level``
    credible interval of the second-order uncertainty; ``estimate`` says which
    number it is (:func:`estimate_label`). ``progress`` is accepted for a
    uniform call (one contraction: nothing to show).
    """
    # checked with point values too, where it is unused: a wrong level should not pass until draws are added
    level = check.level(level)
    result = posterior(model, targets, evidence=evidence, do=do, scenario=scenario)
    labels = _labels(tuple((t, model.states(t)) for t in result))
    if all(p.ndim == 1 for p in result.values()):  # point values: no per-state summary needed
        values = {"p": np.concatenate(list(result.values()))}
    else:
        stats = [summarise(p[..., k], level, "p") for p in result.values() for k in range(p.shape[-1])]
        values = {name: np.array([s[name] for s in stats]) for name in stats[0]}
    values["estimate"] = np.full(len(labels[0]), estimate_label(model), dtype=object)
    return _frame(labels, values)


@lru_cache(maxsize=256)
def _labels(targets: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple:
    """The ``target`` and ``state`` columns of a what-if table and its index, built once per set of targets."""
    frame = pd.DataFrame(
        {"target": [t for t, states in targets for _ in states], "state": [s for _, states in targets for s in states]}
    )
    return frame["target"].array, frame["state"].array, frame.index


@lru_cache(maxsize=16)
def _column_names(names: tuple[str, ...]) -> pd.Index:
    return pd.Index(["target", "state", *names])


@lru_cache(maxsize=16)
def _placements(n_columns: int) -> tuple:
    """One block per column (pandas' BlockPlacement)."""
    from pandas._libs.internals import BlockPlacement

    return tuple(BlockPlacement(slice(i, i + 1)) for i in range(n_columns))


def _frame(labels: tuple, values: dict[str, np.ndarray]) -> pd.DataFrame:
    """The what-if table from its cached ``labels`` and the ``values`` columns (fresh 1-d arrays).

    On a single query the table was most of the time. Built here from one block per
    column: no dtype inference, no consolidation, no integrity pass (the columns are
    ours and of one length) -- a fifth of ``_from_arrays``'s time. The label columns
    are copied (a caller may edit the table); the value arrays are handed over.
    If pandas' internals move, the public block constructor, then the public one.
    """
    target, state, index = labels
    index, names = index.view(), _column_names(tuple(values)).view()  # views: naming one leaves the cached ones alone
    columns = [target.copy(), state.copy(), *values.values()]
    try:
        return _from_blocks(columns, index, names)
    except (AttributeError, ImportError, TypeError, ValueError):
        try:
            places = _placements(len(names))
            blocks = [(c if i < 2 else c.reshape(1, -1), places[i]) for i, c in enumerate(columns)]
            return pd.api.internals.create_dataframe_from_blocks(blocks, index=index, columns=names)
        except (AttributeError, ImportError, TypeError, ValueError):
            # dtype given: pandas would infer ``str`` for the object columns
            return pd.DataFrame({n: pd.Series(c, index=index, dtype=c.dtype, copy=False) for n, c in zip(names, columns)})


def _from_blocks(columns: list, index: pd.Index, names: pd.Index) -> pd.DataFrame:
    """A frame of one block per column through pandas' internals (label columns extension arrays, values 1-d numpy)."""
    from pandas.core.internals.blocks import new_block
    from pandas.core.internals.managers import BlockManager

    places = _placements(len(names))
    blocks = tuple(
        new_block(c if i < 2 else c.reshape(1, -1), places[i], ndim=2) for i, c in enumerate(columns)
    )
    manager = BlockManager(blocks, [names, index], verify_integrity=False)
    return pd.DataFrame._from_mgr(manager, axes=manager.axes)


def estimate_label(model_or_net) -> str:
    """Which number a row shows: ``point values`` (the model's point judgements, e.g. the elicited
    ones) or ``mean of N draws`` (the mean over N draws of the judgements; it differs from the point
    answer because probabilities are not linear in the judgements)."""
    net = getattr(model_or_net, "network", model_or_net)
    n = net.batch_size
    return "point values" if n is None else f"mean of {n} draws"


def mean_score(probabilities: np.ndarray) -> np.ndarray:
    """Expected position on the node's 0..1 scale (P(highest) for a binary node)."""
    probabilities = np.asarray(probabilities, dtype=float)
    k = probabilities.shape[-1]
    return probabilities @ (np.arange(k) / (k - 1))
