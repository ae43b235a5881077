"""hierlib.ranking: ranks at every draw, rank intervals, P(top k)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from hierlib import ranking


def test_ranks_of_a_known_array():
    draws = np.array([[3.0, 1.0, 2.0], [0.0, 5.0, 1.0]])
    np.testing.assert_array_equal(ranking.rank_draws(draws), [[1, 3, 2], [3, 1, 2]])
    np.testing.assert_array_equal(
        ranking.rank_draws(draws, descending=False), [[3, 1, 2], [1, 3, 2]]
    )
    # (chains, draws, m) is stacked chain by chain
    np.testing.assert_array_equal(ranking.rank_draws(draws[None]), [[1, 3, 2], [3, 1, 2]])


def test_prob_top_k_known_and_sums_to_k():
    draws = np.array([[3.0, 1.0, 2.0], [0.0, 5.0, 1.0], [9.0, 8.0, 7.0], [1.0, 2.0, 3.0]])
    np.testing.assert_allclose(ranking.prob_top_k(draws, 1), [0.5, 0.25, 0.25])
    np.testing.assert_allclose(ranking.prob_top_k(draws, 2), [0.5, 0.75, 0.75])
    rng = np.random.default_rng(0)
    big = rng.normal(size=(2, 500, 30)) + np.linspace(0, 3, 30)
    for k in (1, 5, 10):
        p = ranking.prob_top_k(big, k)
        assert p.sum() == pytest.approx(k)
        assert np.all((p >= 0) & (p <= 1))
    # the group with the largest mean is most likely on top
    assert np.argmax(ranking.prob_top_k(big, 1)) == 29


def test_rank_summary_intervals_and_sample_rank():
    rng = np.random.default_rng(1)
    # group 0 always best, groups 1 and 2 swap at random
    s = 4000
    draws = np.column_stack([np.full(s, 10.0), rng.normal(0, 1, s), rng.normal(0, 1, s)])
    tab = ranking.rank_summary(draws, ["a", "b", "c"], sample_mean=[9.0, 1.0, 2.0], k=1)
    assert list(tab.index[:1]) == ["a"]
    assert tab.loc["a", ["rank_lo", "rank_hi", "median_rank"]].tolist() == [1, 1, 1]
    assert tab.loc["b", "rank_lo"] == 2 and tab.loc["b", "rank_hi"] == 3
    assert tab.loc["b", "mean_rank"] == pytest.approx(2.5, abs=0.05)
    assert tab["p_top1"].sum() == pytest.approx(1.0)
    assert tab.loc[["a", "b", "c"], "sample_rank"].tolist() == [1, 3, 2]


@pytest.mark.parametrize(
    "draws, msg",
    [
        (np.array([1.0, 2.0]), "shape"),
        (np.array([[1.0], [2.0]]), "two groups"),
        (np.array([[1.0, np.nan]]), "NaN"),
        (np.zeros((0, 3)), "at least one draw"),
    ],
)
def test_bad_draws(draws, msg):
    with pytest.raises(ValueError, match=msg):
        ranking.rank_draws(draws)


def test_bad_k_prob_labels():
    draws = np.zeros((3, 4))
    with pytest.raises(ValueError, match="exceeds"):
        ranking.prob_top_k(draws, 5)
    with pytest.raises(ValueError, match="k must"):
        ranking.prob_top_k(draws, 0)
    with pytest.raises(ValueError, match="prob"):
        ranking.rank_summary(draws, list("abcd"), prob=1.5)
    with pytest.raises(ValueError, match="labels"):
        ranking.rank_summary(draws, list("abc"))


def test_plot_top_k_ranks():
    rng = np.random.default_rng(2)
    draws = rng.normal(size=(1000, 20)) + np.arange(20)
    ybar = np.arange(20.0)
    ax = ranking.plot_top_k_ranks(draws, [f"s{i}" for i in range(20)], ybar, k=5)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].startswith("s19") and len(labels) == 5
    assert "rank" in ax.get_xlabel()
    plt.close("all")


def test_plot_rank_intervals_sorted_and_bad_input():
    rng = np.random.default_rng(3)
    draws = rng.normal(size=(500, 12)) + np.arange(12)
    tab = ranking.rank_summary(draws, [f"s{i}" for i in range(12)], k=3)
    ax = ranking.plot_rank_intervals(tab, k=3)
    medians = ax.lines[0].get_ydata()
    assert medians[0] == 1 and medians[-1] == 12  # best school first
    with pytest.raises(ValueError, match="rank_summary"):
        ranking.plot_rank_intervals(tab.drop(columns="rank_lo"))
    plt.close("all")


def test_plot_rank_distribution_sums_to_one():
    rng = np.random.default_rng(4)
    draws = rng.normal(size=(800, 6)) + np.arange(6)
    ax = ranking.plot_rank_distribution(draws, list("abcdef"), ["f", "a"])
    values = [patch.get_data().values for patch in ax.patches]
    assert len(values) == 2
    for v in values:
        assert v.sum() == pytest.approx(1.0)
    # school "f" (largest mean) is most often ranked 1, school "a" most often ranked 6
    assert np.argmax(values[0]) == 0 and np.argmax(values[1]) == 5
    with pytest.raises(ValueError, match="unknown"):
        ranking.plot_rank_distribution(draws, list("abcdef"), ["z"])
    plt.close("all")
