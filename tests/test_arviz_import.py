"""hierlib imports ArviZ without writing to stderr, even on the first import of a day.

ArviZ 0.23 warns once per day per machine (a stamp file in the user cache). A fresh CI machine
always hits that first import, and a notebook cell that writes to stderr fails nbval.
"""

import subprocess
import sys


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
