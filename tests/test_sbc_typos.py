"""SBC has the power to catch the slides' typos in the full conditionals.

The reference numpy engine of hierlib.gibbs draws from hierlib.conditionals, so replacing one
conditional there by the slide's version gives a sampler that is wrong in exactly one line;
the same SBC run with the right line passes, the run with the slide's line is rejected.
(Marked ``sbc``: about a minute on this machine; CI runs it.)
"""

import functools

import numpy as np
import pytest

from hierlib import conditionals as cond
from hierlib import gibbs, sbc

ALPHA = 0.01
SEED = 630
BROKEN_RUN = {"n_reps": 200, "thin_by": 3, "n_warmup": 200, "seed": SEED}


def sigma_precision_missing_half(real):
    def broken(s, theta, a_sigma=0.0, b_sigma=0.0):
        right = real(s, theta, a_sigma, b_sigma)  # Gamma(a + n/2, b + S/2)
        return cond.Gamma(right.shape, b_sigma + 2 * (right.rate - b_sigma))  # rate b + S

    return broken


def sigma02_as_on_the_slide(sigma2_j, nu0, a_s0=0.0, b_s0=0.0):
    # slide: Gamma((a + J nu0)/2, b + sum 1/sigma_j^2) -- no 1/2 and no nu0 in the rate
    phi = 1.0 / np.asarray(sigma2_j, dtype=float)
    return cond.Gamma(a_s0 + phi.size * nu0 / 2, 2 * b_s0 + float(phi.sum()))


@pytest.mark.sbc
def test_sbc_rejects_sigma2_conditional_missing_a_half(monkeypatch):
    numpy_engine = functools.partial(gibbs.hierarchical_normal, engine="numpy")
    good = sbc.gibbs_sbc("hierarchical_normal", sampler=numpy_engine, **BROKEN_RUN)
    assert (good.test()["p_value"] > ALPHA).all(), good.test()
    monkeypatch.setattr(cond, "sigma_precision", sigma_precision_missing_half(cond.sigma_precision))
    bad = sbc.gibbs_sbc("hierarchical_normal", sampler=numpy_engine, **BROKEN_RUN)
    table = bad.test()
    print(f"\nbroken sigma2 conditional:\n{table.round(6)}")
    assert table.loc["sigma2", "p_value"] < 1e-4
    # the rate doubled halves the precision: sigma2 drawn twice too large, the truth ranks low
    assert bad.ranks["sigma2"].mean() < 0.1 * 99


@pytest.mark.sbc
def test_sbc_rejects_the_slides_sigma02_conditional(monkeypatch):
    numpy_engine = functools.partial(gibbs.unequal_variances, engine="numpy")
    good = sbc.gibbs_sbc("unequal_variances", sampler=numpy_engine, **BROKEN_RUN)
    assert (good.test()["p_value"] > ALPHA).all(), good.test()
    monkeypatch.setattr(cond, "sigma02_conditional", sigma02_as_on_the_slide)
    bad = sbc.gibbs_sbc("unequal_variances", sampler=numpy_engine, **BROKEN_RUN)
    table = bad.test()
    print(f"\nslide's sigma02 conditional:\n{table.round(6)}")
    assert table.loc["sigma02", "p_value"] < 1e-4
