"""hierlib.data.mixed_stats: the per-group cross-products of the mixed model, against brute
force (each group's rows multiplied out), and its errors."""

import numpy as np
import pandas as pd
import pytest

from hierlib import _design, data
from hierlib.data import MixedStats, mixed_stats

RB = ("mathach ~ mses * cses + sector * cses", "~cses")


@pytest.fixture(scope="module")
def hsb_cov():
    return data.load_hsb_covariates()


def random_frame(seed=3, m=7):
    """Random data: m groups of 2..9 rows with labels out of order, two predictors."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 10, m)
    g = np.repeat(np.array([f"g{k}" for k in rng.permutation(m)]), sizes)
    n = g.size
    df = pd.DataFrame({"g": g, "x": rng.normal(size=n), "w": rng.normal(size=n)})
    df["y"] = 1.0 + df.x - 0.5 * df.w + rng.normal(size=n)
    return df.iloc[rng.permutation(n)].reset_index(drop=True)


def brute_force(X, Z, y, labels, row_groups):
    """Each statistic summed over the rows of each group, one group at a time."""
    out = {k: [] for k in ("n", "xtx", "xtz", "ztz", "xty", "zty", "yty")}
    for lab in labels:
        r = row_groups == lab
        Xj, Zj, yj = X[r], Z[r], y[r]
        for k, v in (("n", r.sum()), ("xtx", Xj.T @ Xj), ("xtz", Xj.T @ Zj),
                     ("ztz", Zj.T @ Zj), ("xty", Xj.T @ yj), ("zty", Zj.T @ yj),
                     ("yty", yj @ yj)):  # fmt: skip
            out[k].append(v)
    return {k: np.array(v) for k, v in out.items()}


def assert_stats_equal(s, expected):
    for k, v in expected.items():
        np.testing.assert_allclose(getattr(s, k), v, rtol=1e-12, atol=1e-9, err_msg=k)


def test_hsb_stats_are_the_brute_force_sums_with_mixedlms_names(hsb_cov):
    s = mixed_stats(RB[0], hsb_cov, "school", RB[1])
    fit_names = ["Intercept", "sector[T.Catholic]", "mses", "cses", "sector[T.Catholic]:cses",
                 "mses:cses"]  # fmt: skip
    assert s.fe_names == tuple(fit_names)  # MixedLM's fe_params index (test_mixed fits it)
    assert s.re_names == ("Intercept", "cses")
    assert (s.m, s.p, s.q, s.n_total) == (160, 6, 2, 7185)
    np.testing.assert_array_equal(s.groups, np.unique(hsb_cov["school"]))
    catholic = (hsb_cov["sector"] == "Catholic").to_numpy(float)
    X = np.column_stack([np.ones(len(hsb_cov)), catholic, hsb_cov.mses, hsb_cov.cses,
                         catholic * hsb_cov.cses, hsb_cov.mses * hsb_cov.cses])  # fmt: skip
    Z = np.column_stack([np.ones(len(hsb_cov)), hsb_cov.cses])
    y = hsb_cov["mathach"].to_numpy()
    assert_stats_equal(s, brute_force(X, Z, y, s.groups, hsb_cov["school"].to_numpy()))
    # the known values: 47 students in school 1224, and Z'Z has cses summing to 0 in each
    assert s.n[0] == 47
    np.testing.assert_allclose(s.ztz[:, 0, 1], 0.0, atol=1e-10)
    np.testing.assert_allclose(s.xty[:, 0], s.zty[:, 0])


def test_hsb_names_are_fit_mixeds(hsb_cov):
    used, passed = _design._mixed_inputs(RB[0], hsb_cov, "school", RB[1])
    model = _design._build_mixedlm(RB[0], hsb_cov[used], passed, RB[1])
    assert mixed_stats(RB[0], hsb_cov, "school", RB[1]).fe_names == tuple(model.exog_names)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_data_stats_are_the_brute_force_sums(seed):
    df = random_frame(seed)
    s = mixed_stats("y ~ x + w", df, "g", "~x")
    X = np.column_stack([np.ones(len(df)), df.x, df.w])
    Z = np.column_stack([np.ones(len(df)), df.x])
    assert s.fe_names == ("Intercept", "x", "w") and s.re_names == ("Intercept", "x")
    assert list(s.groups) == sorted(set(df.g))
    assert_stats_equal(s, brute_force(X, Z, df.y.to_numpy(), s.groups, df.g.to_numpy()))


def test_groups_as_labels_and_row_order_give_the_same_stats():
    df = random_frame(4)
    a = mixed_stats("y ~ x", df, "g", "~x")
    b = mixed_stats("y ~ x", df.iloc[::-1], df.g.to_numpy()[::-1], "~x")
    for k in ("n", "xtx", "xtz", "ztz", "xty", "zty", "yty"):
        np.testing.assert_allclose(getattr(a, k), getattr(b, k), rtol=1e-12, err_msg=k)
    assert a.re_names == b.re_names == ("Intercept", "x")


def test_random_intercept_default_and_none():
    df = random_frame(5)
    a, b = mixed_stats("y ~ x", df, "g"), mixed_stats("y ~ x", df, "g", None)
    assert a.re_names == b.re_names == ("Intercept",)
    np.testing.assert_array_equal(a.ztz[:, 0, 0], a.n)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.assign(x=np.where(d.index == 3, np.nan, d.x)), "missing or infinite"),
        (lambda d: d.assign(y=np.where(d.index == 0, np.inf, d.y)), "missing or infinite"),
        (lambda d: d.iloc[:0], "no rows"),
        (lambda d: d.assign(g="one"), "at least 2 groups"),
        (lambda d: d.assign(y=d.g), "must be numeric"),
    ],
)
def test_bad_data_is_refused(change, message):
    with pytest.raises(ValueError, match=message):
        mixed_stats("y ~ x", change(random_frame(6)), "g", "~x")


def test_bad_formulas_are_refused():
    df = random_frame(7)
    with pytest.raises(ValueError, match="not a column"):
        mixed_stats("y ~ nope", df, "g")
    with pytest.raises(ValueError, match="'~'"):
        mixed_stats("y", df, "g")
    with pytest.raises(ValueError, match="not a column"):
        mixed_stats("y ~ x", df, "nope")
    with pytest.raises(ValueError, match="collinear"):
        mixed_stats("y ~ x + I(2 * x)", df, "g")
    df["gx"] = df.groupby("g")["x"].transform("mean")
    with pytest.raises(ValueError, match="does not vary within any group"):
        mixed_stats("y ~ x + gx", df, "g", "~gx")


def test_groups_too_small_for_the_random_effects_are_refused():
    # every group has 2 rows and 2 random effects: sigma2 cannot be told from Sigma
    df = random_frame(8).groupby("g").head(2)
    with pytest.raises(ValueError, match="at most 2 row"):
        mixed_stats("y ~ x", df, "g", "~x")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (({"y": [1.0]}, "g"), "data must be a pandas DataFrame"),
        ((None, "g"), "data"),
    ],
)
def test_wrong_kinds_are_type_errors(args, message):
    with pytest.raises(TypeError, match=message):
        mixed_stats("y ~ x", *args)
    with pytest.raises(TypeError, match="formula"):
        mixed_stats(3, random_frame(), "g")


def test_hand_built_stats_are_checked():
    good = mixed_stats("y ~ x", random_frame(9), "g", "~x")
    fields = {k: getattr(good, k) for k in MixedStats.__dataclass_fields__}
    assert MixedStats(**fields).m == good.m
    with pytest.raises(ValueError, match="xtx must have shape"):
        MixedStats(**{**fields, "xtx": good.xtx[:, :1]})
    with pytest.raises(ValueError, match="yty has NaN"):
        MixedStats(**{**fields, "yty": np.full(good.m, np.nan)})
    with pytest.raises(ValueError, match="whole group sizes"):
        MixedStats(**{**fields, "n": np.zeros(good.m)})
    with pytest.raises(ValueError, match="distinct"):
        MixedStats(**{**fields, "groups": np.repeat(good.groups[:1], good.m)})
    with pytest.raises(TypeError, match="MixedStats"):
        data.require_mixed_stats({"n": 1})
