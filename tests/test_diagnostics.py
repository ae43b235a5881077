"""hierlib.diagnostics: ESS and R-hat against chains whose true values are known."""

from dataclasses import dataclass

import arviz as az
import matplotlib
import numpy as np
import pytest

from hierlib import diagnostics as dg

matplotlib.use("Agg")


def ar1_chains(rng, phi, n_chains, n_draws):
    """Stationary AR(1) chains x_t = phi x_{t-1} + e_t, e_t ~ N(0, 1)."""
    x = np.empty((n_chains, n_draws))
    x[:, 0] = rng.normal(size=n_chains) / np.sqrt(1 - phi**2)
    e = rng.normal(size=(n_chains, n_draws))
    for t in range(1, n_draws):
        x[:, t] = phi * x[:, t - 1] + e[:, t]
    return x


@dataclass
class FakePosterior:
    """Stands in for a course posterior: .to_arviz() and .elapsed."""

    draws: dict
    elapsed: float

    def to_arviz(self):
        return az.from_dict(posterior=self.draws)


def test_iid_draws_have_ess_near_n_and_rhat_near_one():
    rng = np.random.default_rng(1)
    draws = {"mu": rng.normal(size=(4, 2000)), "tau": rng.gamma(3.0, size=(4, 2000))}
    table = dg.summary_table(draws)
    assert list(table.index) == ["mu", "tau"]
    for name in ("mu", "tau"):
        assert table.loc[name, "ess_bulk"] == pytest.approx(8000, rel=0.1)
        assert table.loc[name, "ess_tail"] == pytest.approx(8000, rel=0.15)
        assert abs(table.loc[name, "r_hat"] - 1.0) < 0.01


def test_ar1_ess_matches_theory():
    # ESS of an AR(1) chain tends to N (1 - phi) / (1 + phi): here 80000 * 0.1 / 1.9 = 4211.
    phi = 0.9
    rng = np.random.default_rng(2)
    x = ar1_chains(rng, phi, 4, 20_000)
    expected = x.size * (1 - phi) / (1 + phi)
    table = dg.summary_table({"x": x})
    assert table.loc["x", "ess_bulk"] == pytest.approx(expected, rel=0.15)
    # ... and is far below the number of draws, so the test would catch an ESS = N bug.
    assert table.loc["x", "ess_bulk"] < 0.1 * x.size


def test_ar1_autocorrelation_is_phi_to_the_lag():
    phi = 0.8
    x = ar1_chains(np.random.default_rng(3), phi, 4, 20_000)
    acf = dg.autocorrelation(x, max_lag=5)
    np.testing.assert_allclose(acf, phi ** np.arange(6), atol=0.03)


def test_rhat_flags_a_chain_stuck_elsewhere():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(4, 1000))
    x[3] += 2.0
    assert dg.summary_table({"x": x}).loc["x", "r_hat"] > 1.1


def test_stats_columns_match_numpy():
    rng = np.random.default_rng(5)
    x = rng.normal(3.0, 2.0, size=(2, 5000))
    table = dg.summary_table({"x": x})
    assert list(table.columns) == [
        "mean",
        "sd",
        "2.5%",
        "97.5%",
        "mcse_mean",
        "ess_bulk",
        "ess_tail",
        "r_hat",
    ]
    row = table.loc["x"]
    assert row["mean"] == pytest.approx(x.mean(), rel=1e-12)
    assert row["sd"] == pytest.approx(x.std(ddof=1), rel=1e-12)
    assert row["2.5%"] == pytest.approx(np.quantile(x, 0.025), rel=1e-12)
    assert row["97.5%"] == pytest.approx(np.quantile(x, 0.975), rel=1e-12)
    # and the interval is the 95% one of N(3, 2^2)
    assert row["2.5%"] == pytest.approx(3.0 - 1.96 * 2.0, abs=0.15)
    # MCSE of the mean of iid draws is sd / sqrt(N)
    assert row["mcse_mean"] == pytest.approx(2.0 / np.sqrt(x.size), rel=0.1)


def test_hdi_interval_and_rounding():
    rng = np.random.default_rng(6)
    x = rng.exponential(size=(2, 5000))
    table = dg.summary_table({"x": x}, "x", prob=0.9, interval="hdi", round_to=2)
    assert "hdi_5%" in table.columns and "hdi_95%" in table.columns
    # the HDI of an exponential starts at its mode, 0
    assert table.loc["x", "hdi_5%"] == pytest.approx(0.0, abs=0.01)
    assert table.loc["x", "ess_bulk"] == round(table.loc["x", "ess_bulk"])


def test_vector_quantity_gives_one_row_per_element():
    rng = np.random.default_rng(7)
    draws = {"mu": rng.normal(size=(2, 500)), "theta": rng.normal(size=(2, 500, 3))}
    assert list(dg.summary_table(draws).index) == ["mu"]  # default: scalars only
    table = dg.summary_table(draws, ["theta"])
    assert list(table.index) == ["theta[0]", "theta[1]", "theta[2]"]


def test_single_chain_gives_nan_rhat_and_writes_nothing_to_stderr(capfd):
    rng = np.random.default_rng(8)
    draws = {"x": rng.normal(size=(1, 1000)), "v": rng.normal(size=(1, 1000, 2))}
    table = dg.summary_table(draws, ["x", "v"])
    assert np.isnan(table["r_hat"]).all()
    assert table.loc["x", "ess_bulk"] == pytest.approx(1000, rel=0.15)
    assert list(table.index) == ["x", "v[0]", "v[1]"]
    assert capfd.readouterr().err == ""


def test_ess_per_second_divides_by_elapsed():
    rng = np.random.default_rng(9)
    post = FakePosterior({"mu": rng.normal(size=(4, 1000))}, elapsed=0.5)
    eps = dg.ess_per_second(post, ["mu"])
    ess = dg.summary_table(post, ["mu"]).loc["mu", "ess_bulk"]
    assert eps["mu"] == pytest.approx(ess / 0.5)
    assert dg.ess_per_second(post.draws, "mu", elapsed=2.0)["mu"] == pytest.approx(ess / 2.0)


def test_ess_table_compares_samplers():
    rng = np.random.default_rng(10)
    good = FakePosterior({"mu": rng.normal(size=(2, 2000))}, elapsed=1.0)
    sticky = FakePosterior({"mu": ar1_chains(rng, 0.95, 2, 2000)}, elapsed=1.0)
    table = dg.ess_table({"iid": good, "ar1": sticky}, ["mu"])
    assert list(table.index) == ["iid", "ar1"]
    assert table.loc["iid", "ess_per_s[mu]"] > 10 * table.loc["ar1", "ess_per_s[mu]"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda d: dg.summary_table(d, ["nope"]), "not in the posterior"),
        (lambda d: dg.summary_table(d, prob=1.5), "prob"),
        (lambda d: dg.summary_table(d, interval="box"), "interval"),
        (lambda d: dg.ess_per_second(d), "elapsed"),
        (lambda d: dg.ess_per_second(d, elapsed=-1.0), "elapsed"),
        (lambda d: dg.summary_table({"x": np.ones(10)}), "shape"),
        (lambda d: dg.summary_table({}), "empty"),
    ],
)
def test_bad_input_raises_value_error(call, message):
    draws = {"mu": np.random.default_rng(11).normal(size=(2, 100))}
    with pytest.raises(ValueError, match=message):
        call(draws)


def test_wrong_kind_of_posterior_is_a_type_error():
    with pytest.raises(TypeError, match="post must be"):
        dg.summary_table([1, 2, 3])


def test_plots_have_labelled_axes():
    rng = np.random.default_rng(12)
    draws = {"mu": rng.normal(size=(2, 300)), "tau": rng.gamma(2.0, size=(2, 300))}
    axes = dg.plot_trace(draws, ["mu", "tau"])
    assert axes.shape == (2, 2)
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in axes.flat)
    assert axes[0, 1].get_ylabel() == "μ"
    axes = dg.plot_rank(draws, ["mu"])
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in axes.flat)
    axes = dg.plot_autocorr(draws, ["mu", "tau"], max_lag=20)
    assert all(ax.get_xlabel() == "lag (iterations)" for ax in axes.flat)
    ax = dg.plot_autocorr_compare({"a": draws, "b": draws}, "tau", max_lag=10)
    assert ax.get_ylabel() == "autocorrelation of τ"
    assert len(ax.get_lines()) == 3  # two samplers and the zero line
    with pytest.raises(ValueError, match="max_lag"):
        dg.autocorrelation(draws["mu"], max_lag=1000)


def test_summary_of_a_real_gibbs_posterior():
    from hierlib import gibbs
    from hierlib.data import load_hsb

    hsb = load_hsb()
    post = gibbs.hierarchical_normal(
        hsb["mathach"], hsb["school"], n_draws=1000, n_warmup=200, n_chains=2, seed=3,
        keep_theta=["8367", "8854"],
    )  # fmt: skip
    table = dg.summary_table(post)
    assert set(table.index) == {"mu", "tau2", "tau", "sigma2", "sigma"}
    # the lecture's HSB posterior (default prior): mu 12.64, sigma 6.26, tau about 2.97
    assert table.loc["mu", "mean"] == pytest.approx(12.64, abs=0.1)
    assert table.loc["sigma", "mean"] == pytest.approx(6.26, abs=0.05)
    assert table.loc["tau", "mean"] == pytest.approx(2.97, abs=0.15)
    assert (table["r_hat"] < 1.02).all()
    theta = dg.summary_table(post, ["theta"])
    assert list(theta.index) == ["theta[8367]", "theta[8854]"]
    eps = dg.ess_per_second(post, ["mu", "tau", "sigma"])
    assert (eps > 0).all() and eps["mu"] == pytest.approx(
        table.loc["mu", "ess_bulk"] / post.elapsed
    )
