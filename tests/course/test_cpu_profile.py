"""The Makefile holds numpy and OpenBLAS to their AVX2 + FMA code (x86-64-v3) on every machine.

Both libraries pick SIMD code at run time, and their AVX-512 code rounds differently in the
last bits: on an AVX-512 machine notebook 12 printed ``3.3e-11`` where the committed notebook
(executed on an AVX2 machine) has ``1.8e-11``, and a figure of notebook 11 moved by a pixel,
so nbval and the clean-tree check of ``make all`` failed there. Under the profile both
notebooks reproduced byte for byte. These tests fail if the Makefile stops exporting the
profile, if a newer numpy in the lock adds a dispatch target above x86-64-v3 that the profile
does not name (or renames one: numpy then ignores the name with a hidden ImportWarning), or if
numpy's or SciPy's OpenBLAS ignores ``OPENBLAS_CORETYPE``.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VARIABLES = ("NPY_DISABLE_CPU_FEATURES", "OPENBLAS_CORETYPE")


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    return {flag for line in text.splitlines() if line.startswith("flags") for flag in line.split()}


X86_64_V3 = {"avx2", "fma"} <= _cpu_flags()
needs_v3 = pytest.mark.skipif(
    not X86_64_V3, reason="the profile applies only where the CPU has AVX2 and FMA"
)


def make_profile() -> dict[str, str]:
    """The two variables as ``make`` recipes see them, from an environment without them."""
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES and not k.startswith("MAKE")}
    out = subprocess.run(
        ["make", "-s", "--no-print-directory", "cpu-profile"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(line.split("=", 1) for line in out.splitlines())


def run_python(code: str, profile: dict[str, str]) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter under ``profile``, every warning an error."""
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES} | profile
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", code], env=env, capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def profile() -> dict[str, str]:
    return make_profile()


def test_profile_is_exported_exactly_where_the_cpu_has_avx2_and_fma(profile):
    if X86_64_V3:
        assert profile["OPENBLAS_CORETYPE"] == "Haswell"
        assert profile["NPY_DISABLE_CPU_FEATURES"].split()
    else:  # forcing Haswell kernels on a CPU without AVX2 would crash
        assert profile == dict.fromkeys(VARIABLES, "")


@needs_v3
def test_profile_names_every_numpy_target_above_x86_64_v3(profile):
    from numpy._core._multiarray_umath import __cpu_dispatch__

    above_v3 = set(__cpu_dispatch__) - {"X86_V3"}
    assert set(profile["NPY_DISABLE_CPU_FEATURES"].split()) == above_v3


@needs_v3
def test_numpy_runs_its_x86_64_v3_code_under_the_profile(profile):
    code = (
        "from numpy._core._multiarray_umath import __cpu_features__ as f\n"
        f"names = {profile['NPY_DISABLE_CPU_FEATURES'].split()!r}\n"
        "assert f['X86_V3'], 'X86_V3 off'\n"
        "assert not any(f[n] for n in names), {n: f[n] for n in names}\n"
    )
    result = run_python(code, profile)
    assert result.returncode == 0 and result.stderr == "", result.stderr


@needs_v3
def test_numpy_and_scipy_openblas_run_haswell_kernels_under_the_profile(profile):
    code = (
        "import ctypes, numpy, scipy.linalg\n"
        "paths = sorted({line.split()[-1] for line in open('/proc/self/maps')\n"
        "                if 'scipy_openblas' in line and line.rstrip().endswith('.so')})\n"
        "assert len(paths) == 2, paths  # numpy's (64-bit ints) and SciPy's\n"
        "for path in paths:\n"
        "    lib = ctypes.CDLL(path)\n"
        "    name = next(n for n in ('scipy_openblas_get_corename64_',\n"
        "                            'scipy_openblas_get_corename') if hasattr(lib, n))\n"
        "    get = getattr(lib, name)\n"
        "    get.restype = ctypes.c_char_p\n"
        "    print(get().decode())\n"
    )
    result = run_python(code, profile)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Haswell", "Haswell"]
