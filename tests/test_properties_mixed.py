"""Property-based tests (Hypothesis) of the mixed model's public API: on random small data
sets (2 to 12 groups of 1 to 8 rows, one or two random effects, scales from 1e-3 to 1e3,
offsets up to 1e4) ``data.mixed_stats`` and ``gibbs.mixed_model`` return finite results of
the right shapes -- positive sigma2, positive definite Sigma, the same draws for the same
seed -- or raise ValueError naming the problem; never another exception, never a NaN.
``pytest -m slow_property`` runs the larger version."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hierlib import data, gibbs, priors

FAST = settings(
    max_examples=15,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
LARGE = settings(FAST, max_examples=150)


@st.composite
def frames(draw):
    m = draw(st.integers(2, 12))
    sizes = draw(st.lists(st.integers(1, 8), min_size=m, max_size=m))
    seed = draw(st.integers(0, 2**16))
    scale = draw(st.sampled_from([1e-3, 1.0, 1e3]))
    offset = draw(st.sampled_from([0.0, 50.0, 1e4]))
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(m), sizes)
    x = rng.normal(size=g.size)
    slope = rng.normal(size=m)
    y = offset + scale * (
        x * (1 + 0.5 * slope[g]) + rng.normal(size=m)[g] + rng.normal(size=g.size)
    )
    re = draw(st.sampled_from(["~1", "~x"]))
    use_proper = draw(st.booleans())
    return pd.DataFrame({"y": y, "x": x, "g": g}), re, use_proper, scale


def proper_prior(q, scale):
    return priors.MixedProper(np.zeros(2), 1e4 * scale**2 * np.eye(2), 1.0, scale**2,
                              priors.InverseWishart(q + 1.0, scale**2 * np.eye(q)))  # fmt: skip


def check(case):
    df, re, use_proper, scale = case
    q = 1 if re == "~1" else 2
    try:
        s = data.mixed_stats("y ~ x", df, "g", re)
    except ValueError as err:
        assert any(w in str(err) for w in ("row", "group", "fitted exactly", "vary")), err
        return
    assert s.xtx.shape == (s.m, 2, 2) and s.ztz.shape == (s.m, q, q)
    assert np.all(np.isfinite(s.yty)) and s.n.sum() == len(df)
    prior = proper_prior(q, scale) if use_proper else None
    run = dict(n_draws=20, n_warmup=10, n_chains=2, seed=3, cores=1)
    try:
        post = gibbs.mixed_model("y ~ x", df, "g", re, prior=prior, **run)
    except ValueError as err:
        assert any(w in str(err) for w in ("groups", "residual spread", "sampler stopped")), err
        assert not use_proper or "sampler stopped" in str(err), err
        return
    assert post.draws["fe"].shape == (2, 20, 2)
    assert post.draws["cov_re"].shape == (2, 20, q, q)
    assert np.all(post.draws["sigma2"] > 0)
    assert np.all(np.linalg.eigvalsh(post.draws["cov_re"]) > 0)
    for v in post.draws.values():
        assert np.all(np.isfinite(v))
    again = gibbs.mixed_model("y ~ x", df, "g", re, prior=prior, **run)
    assert np.array_equal(again.draws["fe"], post.draws["fe"])


@FAST
@given(frames())
def test_mixed_model_on_random_data(case):
    check(case)


@pytest.mark.slow_property
@LARGE
@given(frames())
def test_mixed_model_on_random_data_large(case):
    check(case)
