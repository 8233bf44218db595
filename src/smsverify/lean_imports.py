"""Cold-start trimming: third-party packages whose ``__init__`` only re-exports.

Two libraries on the login path spend most of their import time in their
package ``__init__`` on modules a deployed function never uses (measured with
``python -X importtime``; docs/benchmarks.md has the numbers):

- ``werkzeug/__init__.py`` imports ``werkzeug.serving`` (``http.server``,
  ``socketserver``) and ``werkzeug.test`` to re-export ``run_simple`` and
  ``Client``;
- ``phonenumbers/__init__.py`` imports the as-you-type formatter, the number
  matcher, short numbers and more to re-export about a hundred names.

:func:`defer_package_init` registers such a package from its import spec
*without* running its ``__init__``. Submodules (``werkzeug.wrappers``,
``phonenumbers.phonenumberutil``) import normally from the package's
``__path__``; the first access to any other attribute of the package runs the
real ``__init__`` once (a module ``__getattr__``, PEP 562) and answers from
it, so code that uses the package the ordinary way still works, only later.
smsverify imports what it needs from the submodules directly.

Only ``handler.py`` (the SCF entry) installs it: a library import of
:mod:`smsverify` leaves ``sys.modules`` alone.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from typing import Any

#: Packages deferred by :func:`install`.
DEFERRED = ("werkzeug", "phonenumbers")


def defer_package_init(name: str) -> None:
    """Register package ``name`` with its ``__init__`` deferred to first attribute use.

    Does nothing when the package is already imported or not installed.
    """
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return
    package = importlib.util.module_from_spec(spec)

    def __getattr__(attribute: str) -> Any:
        # ``from package import submodule`` asks for the attribute first: import just it.
        submodule = f"{name}.{attribute}"
        if submodule in sys.modules or importlib.util.find_spec(submodule) is not None:
            return importlib.import_module(submodule)
        # Anything else runs the real __init__, once; it may define a __getattr__ of its own.
        del package.__dict__["__getattr__"]
        spec.loader.exec_module(package)
        return getattr(package, attribute)

    package.__dict__["__getattr__"] = __getattr__
    sys.modules[name] = package


_lock = threading.Lock()


def install() -> None:
    """Defer the ``__init__`` of every package in :data:`DEFERRED`.

    Called once, by the SCF entry module ``handler.py``, before anything
    imports those packages; importing :mod:`smsverify` alone changes nothing.
    Safe to call from several threads: the lock makes the check-and-register
    of each package one step.
    """
    with _lock:
        for name in DEFERRED:
            defer_package_init(name)
