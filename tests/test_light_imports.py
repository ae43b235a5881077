"""Importing the modelling modules does not import the heavy plotting and fitting libraries:
ArviZ, statsmodels and matplotlib are imported by the functions that use them, on first use;
Altair only by the shrinkage explorer (hierlib.shrinkage_explorer), never by hierlib.shrinkage."""

import json
import subprocess
import sys

LIGHT = ["hierlib.gibbs", "hierlib.data", "hierlib.anova", "hierlib.marginal", "hierlib.priors"]
HEAVY = ("arviz", "statsmodels", "matplotlib", "altair")

PROBE = """
import importlib, json, sys
heavy, found = sys.argv[1].split(","), {}
for name in sys.argv[2:]:
    importlib.import_module(name)
    loaded = {m.split(".")[0] for m in sys.modules}
    found[name] = [m for m in heavy if m in loaded]
print(json.dumps(found))
"""


def heavy_after_each(*modules: str) -> dict[str, list[str]]:
    """Import ``modules`` one after the other in a fresh interpreter; after each, the heavy
    packages in ``sys.modules`` so far."""
    argv = [sys.executable, "-c", PROBE, ",".join(HEAVY), *modules]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_light_modules_import_no_heavy_library():
    # in turn, so that the first module that pulls one in is named
    found = heavy_after_each(*LIGHT, "hierlib.reml")
    assert found == {name: [] for name in [*LIGHT, "hierlib.reml"]}


def test_the_probe_sees_a_heavy_import():
    # the control: diagnostics plots with matplotlib (imported at the top), and a package
    # imported by hand is seen; the shrinkage explorer brings Altair, shrinkage does not
    found = heavy_after_each(
        "hierlib.gibbs", "hierlib.diagnostics", "statsmodels", "hierlib.shrinkage",
        "hierlib.shrinkage_explorer",
    )  # fmt: skip
    assert found == {
        "hierlib.gibbs": [],
        "hierlib.diagnostics": ["matplotlib"],
        "statsmodels": ["statsmodels", "matplotlib"],
        "hierlib.shrinkage": ["statsmodels", "matplotlib"],
        "hierlib.shrinkage_explorer": ["statsmodels", "matplotlib", "altair"],
    }
