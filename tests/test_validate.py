"""hierlib._validate: the shared input checks name the argument they refuse."""

import math

import pytest

from hierlib._validate import probability


@pytest.mark.parametrize("prob", [0.5, 0.95, 1e-12, 1 - 1e-12])
def test_probability_passes_values_strictly_inside(prob):
    assert probability(prob) == prob


@pytest.mark.parametrize("prob", [0, 1, 1.5, -0.5, 2, math.nan, math.inf, True, "high", None])
def test_probability_refuses_everything_else_by_name(prob):
    with pytest.raises(ValueError, match="level"):
        probability(prob, "level")
