"""SCF entry point: handler string ``handler.main_handler``.

The container's service is built when SCF loads this module (cold start), so
a configuration error fails the start-up and names the variable.
"""

import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
if os.path.isdir(os.path.join(_here, "src")):
    sys.path.insert(0, os.path.join(_here, "src"))

from smsverify import lean_imports  # noqa: E402

lean_imports.install()  # before anything imports werkzeug or phonenumbers; see docs/benchmarks.md

from smsverify.edge.handler import create_handler  # noqa: E402

main_handler = create_handler()
