"""hierlib.comparisons: all-pairs claims from raw t-tests and from the posterior."""

import numpy as np
import pytest
from scipy import stats

from hierlib import comparisons, gibbs
from hierlib.data import group_stats
from hierlib.marginal import simulate_two_level


def test_raw_claims_by_hand():
    # three groups of 3: means 0, 1, 10; pooled variance 1 on 6 df
    y = np.array([-1.0, 0.0, 1.0, 0.0, 1.0, 2.0, 9.0, 10.0, 11.0])
    st = group_stats(y, np.repeat([0, 1, 2], 3))
    crit = stats.t.ppf(0.975, 6) * np.sqrt(2 / 3)  # 2.447 * 0.816 = 2.00
    assert crit == pytest.approx(1.998, abs=1e-3)
    # |0-1| = 1 < crit; |0-10|, |1-10| > crit
    assert comparisons.raw_pairwise_claims(st) == 2
    # at the 20% level the critical difference is 1.440 * 0.816 = 1.18: still not 1
    assert comparisons.raw_pairwise_claims(st, level=0.8) == 2


def test_posterior_claims_from_constructed_draws():
    base = np.linspace(-1, 1, 1000)
    draws = np.column_stack([base + 5.0, base, base[::-1] * 0.5])  # 0 > 1 surely; 1 ~ 2
    assert comparisons.posterior_pairwise_claims(draws) == 2
    assert comparisons.posterior_pairwise_claims(draws[None, :, :]) == 2
    with pytest.raises(ValueError, match="level"):
        comparisons.posterior_pairwise_claims(draws, level=0.3)
    with pytest.raises(ValueError, match="shape"):
        comparisons.posterior_pairwise_claims(base)


def test_no_true_differences_no_posterior_claims():
    rng = np.random.default_rng(630)
    sizes = np.full(30, 20)
    y, groups = simulate_two_level(rng, sizes, mu=10.0, tau2=0.0, sigma2=36.0)
    raw = comparisons.raw_pairwise_claims(group_stats(y, groups))
    post = gibbs.hierarchical_normal(y, groups, n_draws=1000, n_chains=2, seed=1)
    # 435 pairs: unadjusted tests make about 5% false claims; the shrunk means make none
    assert 5 <= raw <= 60
    assert comparisons.posterior_pairwise_claims(post.draws["theta"]) == 0


def test_plot_claims_labels_every_bar():
    import matplotlib
    import pandas as pd

    matplotlib.use("Agg")
    table = pd.DataFrame({"raw t-tests": [699, 6892], "hierarchical model": [0, 6618]},
                         index=["no differences", "HSB"])  # fmt: skip
    ax = comparisons.plot_claims(table, 12720)
    labels = sorted(t.get_text() for t in ax.texts)
    assert labels == sorted(["699", "6892", "0", "6618"])
    assert ax.get_ylabel() == "pairs of schools declared different"
