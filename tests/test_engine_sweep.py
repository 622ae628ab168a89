"""The batched engine and the sweep's differential pass against pgmpy: default priors and bundled networks."""

from __future__ import annotations

import numpy as np
import pytest

from bayes_cmo.network._pgmpy import arrays_from_pgmpy, to_pgmpy
from bayes_cmo import Model, sweep
from bayes_cmo.engine.core import NetworkArrays, marginals

TOL = 1e-9


@pytest.fixture(scope="module")
def pg():
    from bayes_cmo.network import _pgmpy

    return _pgmpy


def one_draw(net: NetworkArrays, i: int) -> NetworkArrays:
    cpts = {v: (net.cpts[v][i] if net.is_batched(v) else net.cpts[v]) for v in net.variables}
    return NetworkArrays(variables=net.variables, states=net.states, parents=net.parents, cpts=cpts)


def test_engine_matches_pgmpy_on_the_default_priors_with_draws(pg, default_model):
    """Many evidence sets and 3 draws in one call per target, each draw checked against pgmpy VE."""
    net = default_model.with_draws(3, seed=11).network
    sets = [
        {},
        {"legal_agreements": "present"},
        {"entry_point": "policy_directive", "trust": "low"},
        {"communication": net.states["communication"][-1], "power_imbalance": net.states["power_imbalance"][0]},
    ]
    targets = ["synergy", "dissolution", "initial_trust"]
    got = marginals(net, targets, sets)
    for d in range(3):
        ve = pg.VariableElimination(to_pgmpy(one_draw(net, d)))
        for t in targets:
            for i, ev in enumerate(sets):
                f = ve.query([t], evidence=ev or None, show_progress=False)
                order = [f.state_names[t].index(s) for s in net.states[t]]
                np.testing.assert_allclose(got[t][d, i], f.values[order], rtol=0, atol=TOL)


@pytest.mark.parametrize("name, target", [("asia", "dysp"), ("alarm", "BP"), ("child", "LowerBodyO2"), ("insurance", "PropCost")])
def test_sweep_matches_pgmpy_on_bundled_networks(pg, name, target):
    model = pg.get_example_model(name)
    m = Model(network=arrays_from_pgmpy(model), source=name)
    frame = sweep(m, [target], modes="observe")
    roots = {v for v in m.network.variables if not m.network.parents[v]} - {target}
    assert set(frame["context"]) == roots
    ve = pg.VariableElimination(model)
    for (context, state), rows in list(frame.groupby(["context", "state"], sort=False))[:12]:
        f = ve.query([target], evidence={context: state}, show_progress=False)
        got = rows.set_index("target_state")["p"]
        for k, s in enumerate(f.state_names[target]):
            assert got[str(s)] == pytest.approx(f.values[k], abs=TOL)
