"""Local use.

``python -m smsverify invoke EVENT_FILE``  run ``main_handler`` on an event file
    and print the integration response (JSON) on stdout.
``python -m smsverify serve [--port 9000]``  serve the same app on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import sys

from smsverify.errors import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m smsverify", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    invoke = commands.add_parser("invoke", help="run main_handler on an event file and print the response")
    invoke.add_argument("event_file")
    serve = commands.add_parser("serve", help="serve the app on 127.0.0.1")
    serve.add_argument("--port", type=int, default=9000)
    from smsverify.token_cli import register

    register(commands)  # keys generate, token verify
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is not None:
        return args.run(args)

    from smsverify.edge.handler import create_handler

    try:
        handler = create_handler()
    except ConfigError as exc:
        print(f"smsverify: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command == "invoke":
        try:
            with open(args.event_file, encoding="utf-8") as fh:
                event = json.load(fh)
        except (OSError, ValueError) as exc:
            print(f"smsverify: cannot read {args.event_file}: {exc}", file=sys.stderr)
            return 2
        print(json.dumps(handler(event, {}), ensure_ascii=False, indent=2))
        return 0
    from werkzeug.serving import run_simple

    print(f"smsverify: serving on http://127.0.0.1:{args.port}/ (Ctrl-C to stop)", file=sys.stderr)
    run_simple("127.0.0.1", args.port, handler.app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
