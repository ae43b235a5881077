"""hierlib.explore: the data notebook's figures show exactly the group statistics."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from hierlib import explore
from hierlib.data import group_stats


@pytest.fixture(scope="module")
def stats(hsb):
    return group_stats(hsb["mathach"], hsb["school"])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_pooled_sd_is_the_lectures_within_mean_square(stats):
    # Lecture ANOVA table: within SS 274970 on 7025 df, MS 39 (REML sigma-hat 6.26).
    assert explore.pooled_within_sd(stats) ** 2 == pytest.approx(274970 / 7025, abs=0.01)


def test_pooled_sd_small_example():
    # groups a: 1, 3 (SS 2) and b: 2, 4, 6 (SS 8); n - m = 3, so s_w^2 = 10 / 3.
    s = group_stats([1.0, 3.0, 2.0, 4.0, 6.0], ["a", "a", "b", "b", "b"])
    assert explore.pooled_within_sd(s) == pytest.approx(np.sqrt(10 / 3))
    np.testing.assert_allclose(
        explore.standard_errors(s), np.sqrt(10 / 3) / np.sqrt([2, 3]), rtol=1e-12
    )
    np.testing.assert_allclose(
        explore.standard_errors(s, pooled=False), [1.0, 2.0 / np.sqrt(3)], rtol=1e-12
    )


def test_pooled_sd_needs_within_group_degrees_of_freedom():
    s = group_stats([1.0, 2.0], ["a", "b"])
    with pytest.raises(ValueError, match="more observations than groups"):
        explore.pooled_within_sd(s)


def test_own_sd_standard_errors_reject_singleton_groups():
    s = group_stats([1.0, 2.0, 4.0], ["a", "a", "b"])
    with pytest.raises(ValueError, match="at least 2 members"):
        explore.standard_errors(s, pooled=False)


def test_means_vs_size_plots_the_group_stats(stats):
    ax = explore.plot_means_vs_size(stats)
    points = ax.collections[0].get_offsets()
    np.testing.assert_array_equal(points[:, 0], stats.n)
    np.testing.assert_allclose(points[:, 1], stats.ybar)
    assert ax.get_lines()[0].get_ydata()[0] == pytest.approx(12.748, abs=5e-4)
    assert "students" in ax.get_xlabel() and "mean" in ax.get_ylabel()
    assert ax.get_title()
    # the funnel is widest at the smallest school: 1.96 * 6.256 / sqrt(14) = 3.277
    band = ax.collections[1].get_paths()[0].vertices
    assert band[:, 1].max() - stats.grand_mean == pytest.approx(3.277, abs=1e-3)


def test_means_vs_size_without_funnel_draws_one_collection(stats):
    ax = explore.plot_means_vs_size(stats, funnel=False)
    assert len(ax.collections) == 1


def test_within_spread_orders_schools_by_mean(hsb, stats):
    ax = explore.plot_within_spread(hsb["mathach"], hsb["school"])
    students, means = (c.get_offsets() for c in ax.collections[:2])
    assert len(students) == 7185
    np.testing.assert_allclose(means[:, 1], np.sort(stats.ybar))
    # each student sits at the rank of its school: the mean of the dots at x = 0 is the
    # lowest school mean (school 8854, 4.24)
    at_lowest = students[students[:, 0] == 0, 1]
    assert len(at_lowest) == stats.n[np.argmin(stats.ybar)]
    assert at_lowest.mean() == pytest.approx(stats.ybar.min())
    assert ax.get_xlabel() and ax.get_ylabel()


def test_within_spread_rejects_nan():
    with pytest.raises(ValueError, match="NaN"):
        explore.plot_within_spread([1.0, np.nan], ["a", "b"])


def test_standard_errors_plot_matches_formula(stats):
    ax = explore.plot_standard_errors(stats)
    points = ax.collections[0].get_offsets()
    np.testing.assert_allclose(points[:, 1], np.sqrt(stats.s2 / stats.n))
    line = ax.get_lines()[0]
    assert line.get_ydata()[0] == pytest.approx(6.2563 / np.sqrt(14), abs=1e-3)
    assert "standard error" in ax.get_ylabel()


def test_plots_draw_on_a_given_axes(stats):
    fig, ax = plt.subplots()
    assert explore.plot_standard_errors(stats, ax=ax) is ax
