"""hierlib.anova: the lecture's ANOVA table of the HSB math scores, and its checks."""

import numpy as np
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from hierlib.anova import one_way_anova


@pytest.fixture(scope="module")
def hsb_anova(hsb):
    return one_way_anova(hsb["mathach"], hsb["school"])


def test_lecture_anova_table(hsb_anova):
    # R: anova(aov(y ~ school)): school 159 64907 408 10.429 <2.2e-16; Residuals 7025 274970 39
    t = hsb_anova.table
    assert list(t.index) == ["between groups", "within groups", "total"]
    assert list(t.columns) == ["df", "SS", "MS", "F", "p"]
    assert t.loc["between groups", "df"] == 159
    assert t.loc["within groups", "df"] == 7025
    assert t.loc["total", "df"] == 7184
    assert round(t.loc["between groups", "SS"]) == 64907
    assert round(t.loc["within groups", "SS"], -1) == 274970
    assert t.loc["between groups", "MS"] == pytest.approx(408.2, abs=0.05)
    assert t.loc["within groups", "MS"] == pytest.approx(39.14, abs=0.005)
    assert t.loc["between groups", "F"] == pytest.approx(10.429, abs=5e-4)
    assert 0 < hsb_anova.p_value < 2.2e-16
    assert t.loc["total", "SS"] == pytest.approx(hsb_anova.ss_between + hsb_anova.ss_within)


def test_total_ss_is_sum_of_squares_about_grand_mean(hsb, hsb_anova):
    y = hsb["mathach"].to_numpy()
    assert hsb_anova.table.loc["total", "SS"] == pytest.approx(np.sum((y - y.mean()) ** 2))
    assert hsb_anova.table.loc["total", "MS"] == pytest.approx(y.var(ddof=1))


def test_matches_statsmodels_anova_lm(hsb, hsb_anova):
    ref = sm.stats.anova_lm(smf.ols("mathach ~ C(school)", data=hsb).fit())
    got = hsb_anova.table
    np.testing.assert_allclose(got["df"].iloc[:2], ref["df"], rtol=0)
    np.testing.assert_allclose(got["SS"].iloc[:2], ref["sum_sq"], rtol=1e-10)
    np.testing.assert_allclose(got["MS"].iloc[:2], ref["mean_sq"], rtol=1e-10)
    assert got.loc["between groups", "F"] == pytest.approx(ref["F"].iloc[0], rel=1e-10)
    assert hsb_anova.p_value == pytest.approx(ref["PR(>F)"].iloc[0], rel=1e-8)


def test_decision_follows_the_lecture_rule(hsb_anova):
    assert hsb_anova.reject(0.05)
    assert "separate" in hsb_anova.decision()
    # two groups with the same mean: F = 0, p = 1, pool
    same = one_way_anova([1.0, 2.0, 3.0, 1.0, 2.0, 3.0], [0, 0, 0, 1, 1, 1])
    assert same.f == 0.0 and same.p_value == pytest.approx(1.0)
    assert not same.reject(0.05)
    assert "pool" in same.decision()


def test_small_example_by_hand():
    # groups a: 1,2,3 (mean 2, SS 2); b: 7,8,9 (mean 8, SS 2); grand mean 5
    res = one_way_anova([1.0, 2.0, 3.0, 7.0, 8.0, 9.0], ["a"] * 3 + ["b"] * 3)
    assert res.ss_between == pytest.approx(3 * 9 + 3 * 9)
    assert res.ss_within == pytest.approx(4.0)
    assert res.f == pytest.approx((54 / 1) / (4 / 4))


@pytest.mark.parametrize(
    ("y", "groups", "message"),
    [
        ([1.0, 2.0, 3.0], ["a", "a", "a"], "at least 2 groups"),
        ([1.0, 2.0, 3.0], ["a", "b", "c"], "at least one group with 2 or more"),
        ([1.0, 1.0, 2.0, 2.0], ["a", "a", "b", "b"], "within SS = 0"),
        ([1.0, np.nan, 3.0, 4.0], ["a", "a", "b", "b"], "NaN"),
        ([1.0, np.inf, 3.0, 4.0], ["a", "a", "b", "b"], "infinite"),
        ([1.0, 2.0, 3.0], ["a", "a", "b", "b"], "lengths differ"),
        (["x", "y", "z", "w"], ["a", "a", "b", "b"], "numeric"),
        ([], [], "empty"),
    ],
)
def test_bad_input(y, groups, message):
    with pytest.raises(ValueError, match=message):
        one_way_anova(y, groups)


def test_bad_alpha(hsb_anova):
    with pytest.raises(ValueError, match="alpha"):
        hsb_anova.reject(1.5)


def test_text_table_rounds_like_r(hsb_anova):
    text = hsb_anova.to_text()
    for token in ("159", "7025", "64907", "274970", "408.22", "39.14", "10.429"):
        assert token in text
    assert "nan" not in text.lower()


def test_plots_mark_the_observed_f(hsb, hsb_anova):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hierlib.anova import plot_f_test, plot_two_extremes
    from hierlib.data import group_stats

    ax = plot_f_test(hsb_anova)
    assert ax.lines[1].get_xdata()[0] == pytest.approx(hsb_anova.f)
    ax2 = plot_two_extremes(group_stats(hsb["mathach"], hsb["school"]))
    assert ax2.lines[-1].get_ydata()[0] == pytest.approx(12.74785, abs=1e-5)
    plt.close("all")
