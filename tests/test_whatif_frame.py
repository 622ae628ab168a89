"""The what-if table built from blocks is the table pandas' public constructor builds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayes_cmo as bc
from bayes_cmo.inference import whatif as _whatif

TOY = Path(__file__).parent / "data" / "toy"


@pytest.fixture(scope="module")
def toy():
    return bc.load_model(TOY)


def _public(table: pd.DataFrame) -> pd.DataFrame:
    """The same columns through ``pd.DataFrame(dict)``: what the fast constructor must equal."""
    return pd.DataFrame({c: table[c].to_numpy().copy() for c in table.columns}).astype(table.dtypes.to_dict())


@pytest.mark.parametrize("draws", [None, 20])
def test_the_fast_table_equals_the_public_constructor(toy, draws):
    model = toy if draws is None else toy.with_draws(draws, seed=1)
    targets = list(model.network.variables[-2:])
    table = bc.what_if(model, targets)
    pd.testing.assert_frame_equal(table, _public(table))
    assert list(table.columns[:3]) == ["target", "state", "p"] and table.columns[-1] == "estimate"
    assert table["p"].dtype == np.float64 and table["estimate"].dtype == object
    expected = bc.posterior(model, targets)
    p = np.concatenate([v if v.ndim == 1 else v.mean(axis=0) for v in expected.values()])
    np.testing.assert_allclose(table["p"].to_numpy(), p, rtol=0, atol=1e-12)
    # and it behaves as any frame: filtering, adding a column, concatenating
    both = pd.concat([table, table.assign(extra=1.0)], ignore_index=True)
    assert len(both) == 2 * len(table) and both["extra"].isna().sum() == len(table)
    assert table[table["target"] == targets[0]]["state"].tolist() == list(model.states(targets[0]))


def test_editing_a_table_leaves_the_next_one_alone(toy):
    target = toy.network.variables[-1]
    first = bc.what_if(toy, target)
    before = first.copy()
    first.loc[0, "target"] = "edited"
    first.loc[0, "state"] = "edited"
    first.loc[0, "p"] = -1.0
    first.index.name, first.columns.name = "row", "column"
    again = bc.what_if(toy, target)
    pd.testing.assert_frame_equal(again, before)


def test_the_fallbacks_build_the_same_table(toy, monkeypatch):
    target = toy.network.variables[-1]
    fast = bc.what_if(toy, target)

    def moved(*args, **kwargs):
        raise AttributeError("pandas internals moved")

    monkeypatch.setattr(_whatif, "_from_blocks", moved)
    pd.testing.assert_frame_equal(bc.what_if(toy, target), fast)
    monkeypatch.setattr(pd.api.internals, "create_dataframe_from_blocks", moved)
    pd.testing.assert_frame_equal(bc.what_if(toy, target), fast)
