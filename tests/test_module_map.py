"""The module map in hierlib's docstring (``help(hierlib)``) names every module, so that a
reader finds any idea from it in one hop."""

import pkgutil

import hierlib
import hierlib.samplers


def test_the_module_map_names_every_module():
    public = [m.name for m in pkgutil.iter_modules(hierlib.__path__) if m.name != "hsb"]
    missing = [name for name in public if f"hierlib.{name}`" not in hierlib.__doc__ and
               f"``{name}``" not in hierlib.__doc__]  # fmt: skip
    assert len(public) > 20 and not missing, missing


def test_the_samplers_package_names_its_modules():
    names = [m.name for m in pkgutil.iter_modules(hierlib.samplers.__path__)]
    assert {"_chains", "hierarchical_normal", "unequal_variances"} <= set(names)
    missing = [n for n in names if f"hierlib.samplers.{n}`" not in hierlib.samplers.__doc__]
    assert not missing, missing
