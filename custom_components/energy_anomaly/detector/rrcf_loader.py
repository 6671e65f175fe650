"""Load rrcf's forest module without running the package's `__init__`.

rrcf 0.4.4's `rrcf/__init__.py` does `import pkg_resources` only to read its own version, and
the setuptools that Home Assistant pins no longer ships `pkg_resources`, so `import rrcf` fails
there. The forest itself (`rrcf/rrcf.py`) needs nothing but numpy. We therefore locate the
installed package with `find_spec` (which does not execute it) and load that one file under a
private module name. rrcf stays a normal dependency; only its broken `__init__` is skipped.
"""

from functools import cache
from importlib.machinery import ModuleSpec, SourceFileLoader
from importlib.util import find_spec, module_from_spec
from pathlib import Path
from types import ModuleType

_MODULE_NAME = "_energy_anomaly_rrcf"


def _forest_path() -> Path:
    """Where rrcf's forest module is, found without importing the rrcf package."""
    package = find_spec("rrcf")
    if package is None or not package.submodule_search_locations:
        raise ImportError("the rrcf package is not installed")
    return Path(next(iter(package.submodule_search_locations))) / "rrcf.py"


@cache
def load_rrcf() -> ModuleType:
    """Return rrcf's forest module (`RCTree` lives there), loaded once per process."""
    path = _forest_path()
    loader = SourceFileLoader(_MODULE_NAME, str(path))
    module = module_from_spec(ModuleSpec(_MODULE_NAME, loader, origin=str(path)))
    loader.exec_module(module)
    return module
