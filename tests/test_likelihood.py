from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from eh_bench.likelihood import get_likelihood, likelihood_names, table_model


def test_linear_default_is_six_minus_c_over_five() -> None:
    model = get_likelihood()
    assert model.name == "linear"
    assert model([1, 2, 3, 4, 5]).tolist() == pytest.approx([(6 - c) / 5 for c in range(1, 6)])


def test_exponential_formula_and_default_lambda() -> None:
    model = get_likelihood("exponential:0.3")
    assert model([1, 3, 5]).tolist() == pytest.approx([math.exp(-0.3 * (c - 1)) for c in (1, 3, 5)])
    assert get_likelihood("exponential").params == {"lambda": 0.5}


def test_record_round_trips_through_spec() -> None:
    for spec in ("linear", "exponential:0.7", "table:1,0.6,0.6,0.2,0"):
        model = get_likelihood(spec)
        record = model.to_dict()
        assert get_likelihood(record["spec"]) == model
        assert list(record["p_by_cost"]) == ["1", "2", "3", "4", "5"]


def test_names() -> None:
    assert likelihood_names() == ["exponential", "linear", "table"]


@given(st.lists(st.floats(0, 1), min_size=5, max_size=5))
def test_table_accepts_any_sorted_probabilities(values: list[float]) -> None:
    ordered = sorted(values, reverse=True)
    model = table_model(ordered)
    assert np.all(np.diff(model(np.arange(1, 6))) <= 0)
