"""hierlib imports ArviZ without writing to stderr, even on the first import of a day.

ArviZ 0.23 warns once per day per machine (a stamp file in the user cache). A fresh CI machine
always hits that first import, and a notebook cell that writes to stderr fails nbval.
"""

import subprocess
import sys

import numpy as np


def _stderr_of(code: str, cache_dir) -> str:
    env = {"XDG_CACHE_HOME": str(cache_dir), "HOME": str(cache_dir), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stderr


def test_plain_arviz_import_warns_on_a_fresh_machine(tmp_path):
    # the control: without hierlib's guard the notice does reach stderr
    assert "ArviZ is undergoing a major refactor" in _stderr_of("import arviz", tmp_path)


def test_hierlib_imports_arviz_silently_on_a_fresh_machine(tmp_path):
    # hierlib imports ArviZ on first use (hierlib._arviz): use it, then check it was imported
    code = (
        "import sys, hierlib.diagnostics, hierlib.sbc, hierlib.gibbs\n"
        "from hierlib._arviz import az\n"
        "az.InferenceData\n"
        "assert 'arviz' in sys.modules"
    )
    assert _stderr_of(code, tmp_path) == ""


def test_other_warnings_still_show(tmp_path):
    code = (
        "import hierlib._arviz as h, warnings; h.load(); warnings.warn('still here', FutureWarning)"
    )
    assert "still here" in _stderr_of(code, tmp_path)


def test_diagnostics_run_without_compiling_arviz_numba_kernels():
    # ArviZ's numba variances are compiled in memory in every process (about 0.6 s per
    # notebook); hierlib switches them off and the ESS is the same as with them on
    import numpy as np

    from hierlib._arviz import az, load

    load()
    assert az.Numba.numba_flag is False
    draws = az.convert_to_dataset(
        np.random.default_rng(3).standard_normal((4, 500, 3)).cumsum(axis=1)
    )
    plain = az.ess(draws).x.values
    try:
        az.Numba.enable_numba()
        compiled = az.ess(draws).x.values
    finally:
        az.Numba.disable_numba()
    np.testing.assert_allclose(plain, compiled, rtol=1e-12)
    assert np.all(plain < 100)  # a random walk: far fewer effective draws than 2000


def test_arvizs_import_time_ufunc_is_cached_and_numba_left_as_it_was(tmp_path):
    # ArviZ's ECDF ufunc is compiled at import (0.3 s a process); hierlib turns numba's cache
    # on around the import, so a second process loads it, and numba.vectorize is numba's again
    import numba
    from scipy import stats

    from hierlib._arviz import load

    az = load()
    assert numba.vectorize.__module__.startswith("numba")
    k, n = np.arange(0, 12), 11
    np.testing.assert_allclose(az.stats.ecdf_utils._binom_pmf(k, n, 0.3, 0),
                               stats.binom.pmf(k, n, 0.3), rtol=1e-12)  # fmt: skip
    code = "import hierlib._arviz as h; h.load()"
    env = {"NUMBA_DEBUG_CACHE": "1", "NUMBA_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path)}  # fmt: skip
    runs = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, check=True).stdout for _ in range(2)]  # fmt: skip
    assert "data saved" in runs[0] and "_binom_pmf" in runs[0], runs[0]
    second = [line for line in runs[1].splitlines() if "_binom_pmf" in line]
    assert any("data loaded" in line for line in second), runs[1]
    assert not any("saved" in line for line in second), runs[1]
