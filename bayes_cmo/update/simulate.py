"""Synthetic cases: forward sampling from the network, for trying the update.

``simulate_cases(model, n, missing=0.3, seed=1)`` draws ``n`` partnerships
from the model's CPTs in topological order (ancestral sampling, numpy only),
then blanks each recorded cell independently with probability ``missing``
(values missing completely at random). The result is a case table in the
format :mod:`bayes_cmo.cases` reads: ``case_id`` ("sim-001", ...), a ``notes``
column saying "synthetic" on every row, and one column per node holding state
names, ``None`` where not observed (written as a blank cell in CSV).

``set_link_weight(theory, "FROM:TO", 3.0)`` is "the same programme theory with
one link changed": it returns a new :class:`Theory` whose link has that signed
log-odds weight, e.g. to simulate cases from a world where legal agreements
matter more than the experts thought, then check that the update notices.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from .._lazy import pandas as pd
from ..engine.sampling import forward_sample
from .. import _validate
from .._errors import BayesCMOError, did_you_mean
from ..network.model import Model
from ..theory import Theory

#: Value of the ``notes`` column on every simulated case.
SYNTHETIC_NOTE = "synthetic"


def simulate_cases(
    model: Model,
    n: int,
    missing: float = 0.0,
    seed: int | None = 0,
    observed: Sequence[str] | None = None,
) -> pd.DataFrame:
    """``n`` synthetic cases drawn from ``model``, a fraction ``missing`` of cells blank.

    Parameters
    ----------
    model : Model
        An unbatched model (point CPTs), e.g. ``build_model(theory)``.
    n : int
        Number of cases (rows), >= 0.
    missing : float in [0, 1)
        Probability that each recorded cell is left blank (MCAR).
    seed : int or None
        Seed of the numpy random generator; same seed, same cases.
    observed : sequence of node ids, optional
        Columns to record (default: every node). Other nodes are sampled but
        not written, as for mechanisms a case study cannot see.

    Returns
    -------
    DataFrame with columns ``case_id``, ``notes`` and one column per recorded
    node (network order), state names as strings and ``None`` for blanks.
    """
    n = _validate.integer(n, "n", 0)
    _validate.fraction(missing, "missing", one="1 would leave every cell blank")
    _validate.instance(model, "model", Model, "a Model (build_model / load_model)")
    net = model.network
    _validate.point_values(net.batch_size, "model")
    if observed is None:
        columns = list(net.variables)
    else:
        if isinstance(observed, str):
            observed = [observed]
        for node in observed:
            if node not in net.states:
                raise BayesCMOError(f"observed: unknown node '{node}'{did_you_mean(node, net.variables)}")
        chosen = set(observed)
        columns = [v for v in net.variables if v in chosen]

    n = int(n)
    rng = np.random.default_rng(seed)
    drawn, _ = forward_sample(net, n, rng)

    width = max(3, len(str(n)))
    frame = pd.DataFrame(
        {
            "case_id": [f"sim-{i + 1:0{width}d}" for i in range(n)],
            "notes": [SYNTHETIC_NOTE] * n,
        }
    )
    for v in columns:
        states = np.asarray(net.states[v], dtype=object)
        values = states[drawn[v]] if n else np.array([], dtype=object)
        if missing > 0:
            values = np.where(rng.random(n) < missing, None, values)
        frame[v] = pd.Series(values, dtype=object)
    return frame


def set_link_weight(theory: Theory, link_id: str, weight: float) -> Theory:
    """A copy of ``theory`` where link ``FROM:TO`` has signed log-odds ``weight``.

    The link keeps its confidence, scores and moderator; only sign and
    strength change (``weight = sign * strength``). The original is untouched.
    """
    if not isinstance(theory, Theory):
        _validate.instance(theory, "theory", Theory, "a Theory (load_theory)")
    _validate.finite(weight, "weight")
    link = theory.link(link_id)  # one-line error with did-you-mean
    weight = float(weight)
    new = link.with_weight(weight)
    links = tuple(new if other is link else other for other in theory.links)
    return dataclasses.replace(theory, links=links)


def parse_link_setting(text: str) -> tuple[str, float]:
    """``"FROM:TO=WEIGHT"`` -> (link id, weight), as given on the command line."""
    link_id, sep, value = str(text).partition("=")
    try:
        weight = float(value)
    except ValueError:
        weight = math.nan
    if not sep or ":" not in link_id or not math.isfinite(weight):
        raise BayesCMOError(
            f"--set-link '{text}' must look like FROM:TO=WEIGHT (a signed log-odds number), "
            "e.g. context_a:mechanism_b=3.0"
        )
    return link_id.strip(), weight
