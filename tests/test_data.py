"""hierlib.data: the shipped HSB data and the sufficient statistics every model builds on."""

import hashlib

import numpy as np
import pytest

from hierlib.data import DATA_DIR, group_stats, hsb_arrays, load_hsb, load_hsb_schools

# sha256 of the committed CSVs, as recorded in data/README.md
SHA256 = {
    "hsb_students.csv": "70cce7b49d17a16dc83ac2829e021d4286ebef1c58984e6215f9d86c529d6ad3",
    "hsb_schools.csv": "d86a33b48ddfbd8e309219059a1f38194873d1c7cd6fe440e5967339d27bc5ce",
}


@pytest.mark.parametrize("name", sorted(SHA256))
def test_checksum_matches_readme(name):
    digest = hashlib.sha256((DATA_DIR / name).read_bytes()).hexdigest()
    assert digest == SHA256[name]
    assert SHA256[name] in (DATA_DIR / "README.md").read_text()


def test_hsb_shape_and_lecture_facts(hsb):
    assert hsb.shape[0] == 7185
    assert list(hsb.columns) == ["school", "minority", "sex", "ses", "mathach", "meanses"]
    sizes = hsb.groupby("school").size()
    assert len(sizes) == 160
    assert sizes.min() == 14 and sizes.max() == 67
    assert round(hsb["mathach"].mean(), 3) == 12.748
    assert hsb["school"].dtype == object or str(hsb["school"].dtype).startswith("str")


def test_school_columns_join(hsb):
    full = load_hsb(with_school_columns=True)
    assert len(full) == len(hsb)
    assert {"size", "sector", "pracad", "disclim", "himinty"} <= set(full.columns)
    assert full["sector"].notna().all()
    assert set(full["sector"]) == {"Public", "Catholic"}
    assert len(load_hsb_schools()) == 160


def test_hsb_arrays_are_the_score_and_school_columns(hsb):
    y, groups = hsb_arrays()
    assert y.dtype == np.float64 and y.shape == groups.shape == (7185,)
    np.testing.assert_array_equal(y, hsb["mathach"].to_numpy())
    np.testing.assert_array_equal(groups, hsb["school"].to_numpy())
    assert round(y.mean(), 3) == 12.748 and len(set(groups)) == 160


def test_group_stats_matches_pandas(hsb):
    st = group_stats(hsb["mathach"], hsb["school"])
    ref = hsb.groupby("school")["mathach"].agg(["size", "mean", "var"])
    assert st.m == 160 and st.n_total == 7185
    np.testing.assert_array_equal(st.labels, ref.index.to_numpy())
    np.testing.assert_array_equal(st.n, ref["size"].to_numpy())
    np.testing.assert_allclose(st.ybar, ref["mean"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(st.s2, ref["var"].to_numpy(), rtol=1e-10)
    assert st.grand_mean == pytest.approx(12.74785, abs=1e-5)


def test_group_stats_small_example():
    st = group_stats([1.0, 3.0, 10.0, 20.0, 30.0], ["b", "b", "a", "a", "a"])
    np.testing.assert_array_equal(st.labels, ["a", "b"])
    np.testing.assert_array_equal(st.n, [3, 2])
    np.testing.assert_allclose(st.ybar, [20.0, 2.0])
    np.testing.assert_allclose(st.ss, [200.0, 2.0])
    np.testing.assert_allclose(st.s2, [100.0, 2.0])
    assert st.to_frame().loc["a", "n"] == 3


def test_ss_is_precise_for_large_offsets():
    # sum(y^2) - n*ybar^2 would lose every digit here; the two-pass sum must not.
    y = 1e8 + np.array([1.0, 2.0, 3.0])
    assert group_stats(y, [0, 0, 0]).ss[0] == pytest.approx(2.0, rel=1e-9)


@pytest.mark.parametrize(
    ("y", "groups", "match"),
    [
        ([1.0, np.nan], [1, 2], "NaN or infinite"),
        ([1.0, np.inf], [1, 2], "NaN or infinite"),
        (["a", "b"], [1, 2], "numeric"),
        ([], [], "empty"),
        ([1.0, 2.0, 3.0], [1, 2], "lengths differ"),
        ([1.0, 2.0], [1.0, np.nan], "missing"),
        ([[1.0, 2.0]], [1], "one-dimensional"),
    ],
)
def test_group_stats_rejects_bad_input(y, groups, match):
    with pytest.raises(ValueError, match=match):
        group_stats(y, groups)


def test_variance_of_singleton_group_is_an_error():
    st = group_stats([1.0, 2.0, 5.0], ["a", "a", "b"])
    with pytest.raises(ValueError, match="at least 2 members.*b"):
        _ = st.s2
