"""``python -m smsverify keys generate`` and ``python -m smsverify token verify``.

``keys generate [--kind ec|ed25519|secret] [--var NAME]``
    Prints a new signing key (PKCS#8 PEM) or secret, its public JWK, and the
    exact ``NAME=value`` lines to paste into the SCF console (function
    configuration, environment variables). ``--kind secret`` prints
    ``TOKEN_SECRET=...``; ``--kind secret --var CODE_SECRET`` makes the
    code-hashing secret the same way (32 random bytes, what the start-up
    check of ``CODE_SECRET`` inside SCF asks for).
``token verify TOKEN --audience A --issuer I (--jwks-url URL | --key FILE | --secret-env VAR) [--scene S]``
    Verifies a token with :func:`smsverify.tokens.verifier.verify_token`
    (scene ``login`` unless ``--scene`` names another); prints the claims
    (exit 0) or the reason it is refused (exit 1). ``TOKEN`` ``-`` reads it
    from standard input (keeps it out of the shell history).

``keys`` or ``token`` alone prints its usage and subcommands (exit 2).
Exit codes: 0 done, 1 token refused (or standard output closed early, as by
``| head``), 2 bad usage (unreadable file, unset variable).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from typing import Any

KINDS = ("ec", "ed25519", "secret")


def register(subparsers: Any) -> None:
    """Add the ``keys`` and ``token`` commands to ``python -m smsverify``'s subparsers.

    Each command sets ``run``: a function of the parsed arguments returning the exit code.
    """
    keys_parser = subparsers.add_parser(
        "keys", help="make login-token signing keys and secrets",
        description="Make signing keys for login tokens, and secrets (TOKEN_SECRET, CODE_SECRET).",
    )
    keys = keys_parser.add_subparsers(dest="keys_command", metavar="SUBCOMMAND", title="subcommands")
    keys_parser.set_defaults(run=_usage(keys_parser))
    generate = keys.add_parser(
        "generate", help="print a new key, its public JWK and the lines for the SCF console",
        description="Print a new key or secret and the NAME=value lines to paste into the SCF console. "
                    "--kind secret prints TOKEN_SECRET=...; --kind secret --var CODE_SECRET prints "
                    "CODE_SECRET=... (32 random bytes, what the start-up check asks for).",
    )
    generate.add_argument("--kind", choices=KINDS, default="ec", help="ec = P-256/ES256 (default), ed25519 = EdDSA, secret = HS256")
    generate.add_argument(
        "--var",
        help="variable name in the printed lines [TOKEN_PRIVATE_KEY, or TOKEN_SECRET for --kind secret]; "
             "--kind secret --var CODE_SECRET makes the code-hashing secret",
    )
    generate.set_defaults(run=generate_key)

    token_parser = subparsers.add_parser("token", help="check a login token", description="Check a login token.")
    token = token_parser.add_subparsers(dest="token_command", metavar="SUBCOMMAND", title="subcommands")
    token_parser.set_defaults(run=_usage(token_parser))
    verify = token.add_parser("verify", help="verify a login token and print its claims")
    verify.add_argument("token", help="the token, or - to read it from standard input")
    verify.add_argument("--audience", required=True, help="expected aud (TOKEN_AUDIENCE)")
    verify.add_argument("--issuer", required=True, help="expected iss (TOKEN_ISSUER)")
    source = verify.add_mutually_exclusive_group(required=True)
    source.add_argument("--jwks-url", help="the function's /.well-known/jwks.json (https; http only to 127.0.0.1/localhost)")
    source.add_argument("--key", metavar="FILE", help="a PEM public (or private) key file, or a JWK JSON file")
    source.add_argument("--secret-env", metavar="VAR", help="environment variable holding the HS256 secret")
    verify.add_argument("--scene", action="append", help="scene the token must carry [login]; repeat to accept several")
    verify.add_argument("--leeway", type=int, default=None, help="clock skew tolerated, seconds [30]")
    verify.set_defaults(run=verify_command)


def _usage(parser: argparse.ArgumentParser) -> Any:
    """A ``run`` for a command given without its subcommand: its help on stderr, exit 2."""

    def run(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return run


def _emit(text: str, out: Any) -> int:
    """Write ``text`` to ``out``: 0, or 1 when the reader has gone (``| head``), without a traceback.

    After a broken pipe, standard output is pointed at ``os.devnull`` so the
    interpreter's final flush cannot raise again (the Python documentation,
    "Note on SIGPIPE", in the ``signal`` module's page).
    """
    try:
        out.write(text)
        out.flush()
    except BrokenPipeError:
        if out is sys.stdout:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 1
    return 0


def generate_key(args: argparse.Namespace, out: Any = None) -> int:
    """Print a new key of ``args.kind`` (see the module docstring)."""
    out = out or sys.stdout
    from smsverify.settings.secret_strength import weak_secret_reason
    from smsverify.tokens.keys import generate, private_pem, secret_key

    lines: list[str] = []
    if args.kind == "secret":
        var = args.var or "TOKEN_SECRET"
        value = secrets.token_urlsafe(32)
        while weak_secret_reason(value) is not None:  # practically never; keeps the promise that it passes
            value = secrets.token_urlsafe(32)
        if var == "TOKEN_SECRET":
            kid = secret_key(value.encode("utf-8")).kid
            lines.append(f"# A random secret (32 bytes, base64url). HS256 tokens will carry kid {kid}.")
            lines.append("# Keep it secret: the backends that verify HS256 tokens need the same value.")
        else:
            lines.append("# A random secret (32 bytes, base64url). Keep it secret.")
        lines.append("# Paste into the SCF console (function configuration > environment variables):")
        lines.append(f"{var}={value}")
        return _emit("\n".join(lines) + "\n", out)

    key = generate(args.kind)
    label = {"ec": "EC P-256", "ed25519": "Ed25519"}[args.kind]
    pem = private_pem(key)
    var = args.var or "TOKEN_PRIVATE_KEY"
    lines += [
        f"# A new {label} private key ({key.algorithm}), PKCS#8. Keep it secret.",
        pem.rstrip("\n"),
        "",
        "# Its public JWK, as /.well-known/jwks.json will publish it:",
        json.dumps(key.public_jwk),
        "",
        "# Paste into the SCF console (function configuration > environment variables), one variable a line:",
        f"{var}={' '.join(pem.split())}",  # one console field; TokenConfig reads the spaces back as line breaks
        "TOKEN_ISSUER=<who issues, e.g. https://sms.example.com>",
        "TOKEN_AUDIENCE=<the backend that accepts the token, e.g. my-app-api>",
        "# Rotating: first move the current TOKEN_PRIVATE_KEY value to TOKEN_PRIVATE_KEY_PREVIOUS.",
    ]
    return _emit("\n".join(lines) + "\n", out)


def verify_command(args: argparse.Namespace) -> int:
    """Verify ``args.token``; print the claims as JSON (0) or the refusal (1); 2 on bad usage."""
    from smsverify.tokens.verifier import DEFAULT_LEEWAY_SECONDS, DEFAULT_SCENE, TokenInvalid, verify_token

    token = sys.stdin.read().strip() if args.token == "-" else args.token
    source: dict[str, Any] = {}
    if args.jwks_url:
        source["jwks_url"] = args.jwks_url
    elif args.key:
        try:
            with open(args.key, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            print(f"smsverify: cannot read {args.key}: {exc.strerror}", file=sys.stderr)
            return 2
        try:
            source["key"] = json.loads(text) if text.lstrip().startswith("{") else text
        except ValueError as exc:
            print(f"smsverify: {args.key} is not a JWK (JSON) nor a PEM: {exc}", file=sys.stderr)
            return 2
    else:
        value = os.environ.get(args.secret_env)
        if not value:
            print(f"smsverify: environment variable {args.secret_env} is not set", file=sys.stderr)
            return 2
        source["secret"] = value
    leeway = DEFAULT_LEEWAY_SECONDS if args.leeway is None else args.leeway
    try:
        claims = verify_token(
            token, audience=args.audience, issuer=args.issuer, scene=tuple(args.scene or (DEFAULT_SCENE,)),
            leeway_seconds=leeway, **source,
        )
    except TokenInvalid as exc:
        print(f"token refused: {exc.reason}: {exc.detail}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"smsverify: {exc}", file=sys.stderr)
        return 2
    return _emit(json.dumps(claims, ensure_ascii=False, indent=2) + "\n", sys.stdout)
