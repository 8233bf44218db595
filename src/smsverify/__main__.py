"""Run the function on this machine: ``python -m smsverify {invoke,serve,keys,token} ...``.

``invoke`` and ``serve`` build the same ``main_handler`` as SCF does, from the
environment. With no Redis or SMS settings outside SCF they fall back (each
said once on stderr) to an in-process store, a console SMS provider that
prints the code, and a random per-process code key.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import socket
import sys
from typing import Any

from smsverify.errors import ConfigError

ENVIRONMENT = """\
environment variables that matter (full list: docs/configuration.md):
  REDIS_URL (or REDIS_HOST, REDIS_PORT, REDIS_PASSWORD)
                                           Redis holding the codes (unset: in-process store)
  SMS_PROVIDER, SMS_SDKAPPID, SMS_SIGN, SMS_TEMPLATE_ID
                                           SMS provider(s) in failover order (unset: console SMS)
  CODE_SECRET                              key hashing stored codes (unset: random per process)
  ALLOWED_ORIGINS                          comma list of browser origins allowed by CORS (unset: no CORS)
"""


def _die(message: str) -> int:
    print(f"smsverify: {message}", file=sys.stderr)
    return 2


def _build_handler() -> Any:
    """``main_handler`` from the environment, or ``None`` after printing the configuration error."""
    from smsverify.edge.handler import create_handler

    try:
        return create_handler()
    except ConfigError as exc:
        _die(f"configuration error: {exc}")
        return None


def run_invoke(args: argparse.Namespace) -> int:
    """Read and check the event file first, then build the handler and answer it."""
    try:
        with open(args.event_file, encoding="utf-8") as fh:
            event = json.load(fh)
    except (OSError, ValueError) as exc:
        return _die(f"cannot read {args.event_file}: {getattr(exc, 'strerror', None) or exc}")
    if not isinstance(event, dict):
        return _die(f"cannot read {args.event_file}: an event is a JSON object")
    handler = _build_handler()
    if handler is None:
        return 2
    print(json.dumps(handler(event, {}), ensure_ascii=False, indent=2))
    return 0


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def run_serve(args: argparse.Namespace) -> int:
    """Bind the port first (a busy port is the first thing said), then build the handler and serve."""
    from werkzeug.serving import make_server

    from smsverify.edge.serve import wsgi_app

    try:
        listener = socket.create_server((args.host, args.port), family=_family(args.host))
    except OSError as exc:
        why = "port in use" if exc.errno == errno.EADDRINUSE else (os.strerror(exc.errno) if exc.errno else str(exc))
        return _die(f"cannot listen on {args.host}:{args.port}: {why}")
    with listener:
        server = make_server(args.host, args.port, app=None, threaded=True, fd=listener.fileno())
    handler = _build_handler()
    if handler is None:
        server.server_close()
        return 2
    server.app = wsgi_app(handler)
    print(f"smsverify: serving on http://{args.host}:{server.port}/ (Ctrl-C to stop)", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _register_stats(commands: Any) -> None:
    """``stats``: its module (and redis, pygal) is imported only when the command runs."""
    stats = commands.add_parser(
        "stats", help="conversion per country, number block, provider or scene, from the counters in Redis",
        description="Read the hourly conversion counters from the function's Redis (REDIS_URL etc.) and print "
                    "sent, delivered, failed, verified, expired unused, conversion and spend (SMS_PRICE) per group. "
                    "Exit 2 on a configuration error or when Redis cannot be read.",
        epilog=ENVIRONMENT, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    stats.add_argument("--hours", type=int, default=24, help="hours back, the current one included (default: %(default)s)")
    stats.add_argument("--by", choices=("country", "prefix", "provider", "scene"), default="prefix",
                       help="group by (default: %(default)s)")
    stats.add_argument("--json", action="store_true", help="print JSON instead of a table")
    stats.add_argument("--html", metavar="FILE",
                       help="also write one self-contained HTML page with a chart per hour (needs smsverify[stats])")
    stats.set_defaults(run=run_stats)


def run_stats(args: argparse.Namespace) -> int:
    from smsverify.stats import run

    return run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m smsverify", description=__doc__, epilog=ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    invoke = commands.add_parser(
        "invoke", help="answer one event file as main_handler does in SCF and print the integration response",
        description="Read an API Gateway or Function URL event (JSON) from EVENT_FILE, answer it with "
                    "main_handler, print the integration response as JSON on stdout. Exit 2 when the file "
                    "cannot be read or the configuration is wrong.",
        epilog=ENVIRONMENT, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    invoke.add_argument("event_file", metavar="EVENT_FILE", help="path of the event JSON, e.g. events/get_sms.json")
    invoke.set_defaults(run=run_invoke)
    serve = commands.add_parser(
        "serve", help="answer HTTP requests on a local port through the same main_handler",
        description="Serve HTTP: every request becomes the API Gateway event SCF would receive and is "
                    "answered by main_handler (same checks as in SCF). Exit 2 on a busy port or a wrong "
                    "configuration.",
        epilog=ENVIRONMENT, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=int, default=9000, help="port to listen on (default: %(default)s)")
    serve.set_defaults(run=run_serve)
    from smsverify.tokens import cli as tokens_cli

    tokens_cli.register(commands)  # keys generate, token verify
    _register_stats(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
