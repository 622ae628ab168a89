"""One partnership explained: what the theory infers about its mechanisms, and which findings pushed its outcomes.

``explain(model, evidence, targets=None)`` answers the realist question "for
whom, in what circumstances" for one coded case (or an ad-hoc set of
findings):

* **mechanisms**: for every unobserved mechanism (nodes with role
  ``mechanism``; for a network file without a theory, every unobserved
  non-target node), its most probable state given the findings, with that
  probability and the same state's probability before any finding (the
  marginal argmax, node by node);
* **contributions**: for each target outcome's highest state, each finding's
  Shapley value for the value function ``v(S) = P(outcome | findings S)``:
  the average, over every order of adding the findings, of the change in
  P(outcome) when this finding is added. Shapley values add up exactly:
  their sum is ``P(outcome | all findings) - P(outcome)``, so a table of them
  splits the case's whole shift among its findings, whatever their overlaps
  and interactions. Leave-one-out changes (``P(outcome | all) - P(outcome |
  all but this one)``, also reported) do not add up when findings are
  redundant (two findings on the same path each look unimportant) or interact,
  which is why the split is Shapley's. With at most ``max_exact`` findings
  (default 10: 1,024 subsets in one batched contraction) the values are exact;
  with more, they are averaged over ``permutations`` random orders (seeded),
  which keeps the sum exact and reports a Monte Carlo standard error.

Pure inference: findings come in as a ``{node: state}`` mapping; reading a
case file is the caller's business (the CLI uses :mod:`bayes_cmo.update.cases`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .._lazy import pandas as pd
from ..engine import core as _engine
from ..network.model import Model
from .. import _validate as check
from . import headline as _headline
from .background import Background, check_targets

#: Largest number of findings for exact Shapley values (2**n subsets).
MAX_EXACT = 10
#: Random orders when there are more findings than MAX_EXACT.
DEFAULT_PERMUTATIONS = 200


@dataclass(frozen=True)
class Explanation:
    """What :func:`explain` found.

    ``mechanisms``: columns ``node``, ``state`` (most probable given the
    findings), ``probability``, ``prior_probability`` (of that state with no
    findings), ``change``. ``contributions``: one row per (target, finding):
    ``target``, ``target_state``, ``finding`` (``node=state``), ``node``,
    ``state``, ``shapley``, ``shapley_se`` (0 when exact), ``leave_one_out``,
    ``p_prior`` (P(target state) with no findings), ``p_case`` (with all).
    ``outcomes``: one row per target (``target``, ``target_state``,
    ``observed`` (the case's own state of the outcome, or ""), ``p_prior``,
    ``p_case``, ``total_change``, ``shapley_sum``). An outcome the case
    observed is explained from the case's other findings: ``p_case`` is what
    the theory predicted for it from them.
    ``method``: "exact Shapley" or "Shapley over N random orders".
    """

    evidence: Mapping[str, str]
    mechanisms: pd.DataFrame
    contributions: pd.DataFrame
    outcomes: pd.DataFrame
    method: str


def default_targets(model: Model) -> list[str]:
    """The headline targets (headline.yaml); without one, the outcomes, or a network file's leaves."""
    return list(_headline.targets(model))


def _mechanism_nodes(model: Model, evidence: Mapping[str, str], targets: Sequence[str]) -> list[str]:
    if model.theory is not None:
        nodes = list(model.theory.by_role("mechanism"))
    else:
        nodes = [v for v in model.network.variables if v not in targets]
    return [v for v in nodes if v not in evidence]


def _values(net, items: list[tuple[str, str]], subsets: np.ndarray, targets: list[tuple[str, int]]) -> np.ndarray:
    """v(S) for each row of the boolean ``subsets`` (M, n): P(target state | findings in S), shaped (M, T)."""
    sets = [{items[j][0]: items[j][1] for j in np.flatnonzero(row)} for row in subsets]
    likelihoods = _engine.evidence_likelihoods(net, sets)
    margins = _engine.marginals(net, [t for t, _ in targets], likelihoods=likelihoods) if likelihoods else None
    if margins is None:  # only the empty set
        margins = _engine.marginals(net, [t for t, _ in targets])
        return np.stack([np.repeat(margins[t][0, k], len(sets)) for t, k in targets], axis=1)
    return np.stack([margins[t][:, k] for t, k in targets], axis=1)


def _exact_shapley(net, items, targets) -> tuple[np.ndarray, np.ndarray]:
    n = len(items)
    codes = np.arange(2**n)
    subsets = ((codes[:, None] >> np.arange(n)) & 1).astype(bool)
    values = _values(net, items, subsets, targets)  # (2^n, T)
    size = subsets.sum(axis=1)
    weight = np.array([math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) if s < n else 0.0 for s in size])
    phi = np.zeros((n, len(targets)))
    for j in range(n):
        without = ~subsets[:, j]
        phi[j] = (weight[without][:, None] * (values[codes[without] | (1 << j)] - values[without])).sum(axis=0)
    return phi, np.zeros_like(phi)


def _sampled_shapley(net, items, targets, permutations: int, seed) -> tuple[np.ndarray, np.ndarray]:
    n = len(items)
    rng = np.random.default_rng(seed)
    orders = np.stack([rng.permutation(n) for _ in range(permutations)])
    prefixes = np.zeros((permutations, n + 1, n), dtype=bool)
    for k in range(1, n + 1):
        prefixes[:, k] = prefixes[:, k - 1]
        prefixes[np.arange(permutations), k, orders[:, k - 1]] = True
    values = _values(net, items, prefixes.reshape(-1, n), targets).reshape(permutations, n + 1, -1)
    gains = np.diff(values, axis=1)  # (P, n, T): gain of the k-th finding added
    per = np.zeros((permutations, n, len(targets)))
    per[np.arange(permutations)[:, None], orders] = gains
    return per.mean(axis=0), per.std(axis=0, ddof=1) / math.sqrt(permutations)


def _split(net, items, pair, max_exact: int, permutations: int, seed):
    """(shapley, se, leave_one_out, (p_prior, p_case), method) of ``items`` for one (target, state index)."""
    n = len(items)
    ends = _values(net, items, np.array([[False] * n, [True] * n]), [pair])[:, 0]
    if n == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0), ends, "no findings"
    if n <= max_exact:
        phi, se = _exact_shapley(net, items, [pair])
        method = "exact Shapley"
    else:
        phi, se = _sampled_shapley(net, items, [pair], permutations, seed)
        method = f"Shapley over {permutations} random orders (seed {seed})"
    loo = ends[1] - _values(net, items, ~np.eye(n, dtype=bool), [pair])[:, 0]
    return phi[:, 0], se[:, 0], loo, ends, method


def explain(
    model: Model,
    evidence: Mapping[str, str],
    targets: Sequence[str] | str | None = None,
    *,
    max_exact: int = MAX_EXACT,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int | None = 0,
) -> Explanation:
    """Explain one partnership's findings ``evidence`` ({node: state}) under ``model``.

    ``targets``: outcome nodes whose highest state is explained (default: the
    theory's outcome nodes). See the module docstring for the method.
    """
    check.instance(model, "model", Model, "a Model")
    check.point_values(model.network.batch_size, "model")
    evidence = dict(Background.of(model, evidence).evidence)
    targets = default_targets(model) if targets is None else check_targets(model, targets)
    permutations = check.integer(permutations, "permutations", 2)
    net = model.network
    pairs = [(t, len(net.states[t]) - 1) for t in targets]
    items = list(evidence.items())

    # mechanisms: most probable state given the findings vs before them
    mechanisms = _mechanism_nodes(model, evidence, targets)
    rows = []
    if mechanisms:
        after = _engine.marginals(net, mechanisms, [evidence])
        before = _engine.marginals(net, mechanisms)
        for node in mechanisms:
            p = after[node][0]
            k = int(np.argmax(p))
            rows.append({"node": node, "state": net.states[node][k], "probability": float(p[k]),
                         "prior_probability": float(before[node][0][k]), "change": float(p[k] - before[node][0][k])})
    mech = pd.DataFrame(rows, columns=["node", "state", "probability", "prior_probability", "change"])

    contrib, outcome_rows, methods = [], [], set()
    for target, k in pairs:
        # an observed outcome is explained from the case's other findings
        own = [(node, state) for node, state in items if node != target]
        phi, se, loo, ends, method = _split(net, own, (target, k), max_exact, int(permutations), seed)
        methods.add(method)
        for j, (node, state) in enumerate(own):
            contrib.append({
                "target": target, "target_state": net.states[target][k], "finding": f"{node}={state}",
                "node": node, "state": state, "shapley": float(phi[j]), "shapley_se": float(se[j]),
                "leave_one_out": float(loo[j]), "p_prior": float(ends[0]), "p_case": float(ends[1]),
            })
        outcome_rows.append({
            "target": target, "target_state": net.states[target][k], "observed": evidence.get(target, ""),
            "p_prior": float(ends[0]), "p_case": float(ends[1]), "total_change": float(ends[1] - ends[0]),
            "shapley_sum": float(phi.sum()),
        })
    columns = ["target", "target_state", "finding", "node", "state", "shapley", "shapley_se", "leave_one_out", "p_prior", "p_case"]
    contributions = pd.DataFrame(contrib, columns=columns)
    if len(contributions):
        order = {t: i for i, (t, _) in enumerate(pairs)}
        contributions = contributions.assign(_t=contributions["target"].map(order), _abs=-contributions["shapley"].abs()).sort_values(
            ["_t", "_abs"], kind="stable").drop(columns=["_t", "_abs"]).reset_index(drop=True)
    outcomes = pd.DataFrame(outcome_rows)
    method = "; ".join(sorted(methods))
    return Explanation(evidence=dict(evidence), mechanisms=mech, contributions=contributions, outcomes=outcomes, method=method)
