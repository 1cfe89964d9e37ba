"""The examples in the docstrings run and print what they say, so they cannot drift from the code.

Every module of the package is checked; examples that need a run folder or a trained model are marked
``# doctest: +SKIP`` where they are written.
"""

import doctest
import importlib
import pkgutil

import pytest

import galaxysd

MODULES = sorted(m.name for m in pkgutil.walk_packages(galaxysd.__path__, "galaxysd.")
                 if not m.name.endswith("__main__"))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             verbose=False, report=True)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed (see the output above)"


@pytest.mark.parametrize("package", [m.name for m in pkgutil.walk_packages(galaxysd.__path__, "galaxysd.")
                                     if m.ispkg])
def test_a_package_that_lists_its_modules_lists_exactly_the_ones_it_has(package):
    import re

    module = importlib.import_module(package)
    listed = set(re.findall(r":mod:`(galaxysd\.[\w.]+)`", module.__doc__ or ""))
    listed = {name for name in listed if name.rsplit(".", 1)[0] == package}
    if not listed:
        return  # this package's docstring does not list its modules
    present = {m.name for m in pkgutil.iter_modules(module.__path__, f"{package}.")}
    assert listed == present, f"{package}'s docstring lists {sorted(listed)}, it has {sorted(present)}"
