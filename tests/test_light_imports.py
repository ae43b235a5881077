"""Importing the modelling modules does not import the heavy plotting and fitting libraries:
ArviZ, statsmodels and matplotlib are imported by the functions that use them, on first use."""

import ast
import subprocess
import sys

import pytest

LIGHT = ["hierlib.gibbs", "hierlib.data", "hierlib.anova", "hierlib.marginal", "hierlib.priors"]
HEAVY = ("arviz", "statsmodels", "matplotlib")


def heavy_modules_after(code: str) -> list[str]:
    """The heavy top-level packages in ``sys.modules`` after running ``code`` in a fresh
    interpreter."""
    probe = f"{code}\nimport sys\nprint(sorted({{m.split('.')[0] for m in sys.modules}}))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = ast.literal_eval(done.stdout.strip().splitlines()[-1])
    return [m for m in HEAVY if m in loaded]


@pytest.mark.parametrize("module", LIGHT)
def test_module_imports_no_heavy_library(module):
    assert heavy_modules_after(f"import {module}") == []


def test_all_light_modules_together_and_reml_and_diagnostics():
    # reml and diagnostics pull their heavy library in only when a fit or a plot needs it
    assert heavy_modules_after("import hierlib.reml, " + ", ".join(LIGHT)) == []
    assert heavy_modules_after("import hierlib.diagnostics") == ["matplotlib"]


def test_the_probe_sees_a_heavy_import():
    # the control: the check does see a library that is imported
    assert heavy_modules_after("import hierlib.gibbs\nimport statsmodels.api") == ["statsmodels"]
    code = "from hierlib._arviz import az\naz.InferenceData"
    assert heavy_modules_after(code) == ["arviz", "matplotlib"]
