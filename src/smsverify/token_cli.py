"""``python -m smsverify keys generate`` and ``python -m smsverify token verify``.

``keys generate [--kind ec|ed25519|secret] [--var NAME]``
    Prints a new signing key (PKCS#8 PEM) or secret, its public JWK, and the
    exact ``NAME=value`` lines to paste into the SCF console (function
    configuration, environment variables). ``--kind secret --var CODE_SECRET``
    makes a code-hashing secret the same way.
``token verify TOKEN --audience A --issuer I (--jwks-url URL | --key FILE | --secret-env VAR) [--scene S]``
    Verifies a token with :func:`smsverify.token.verify_token`; prints the
    claims (exit 0) or the reason it is refused (exit 1). ``TOKEN`` ``-``
    reads it from standard input (keeps it out of the shell history).

Exit codes: 0 done, 1 token refused, 2 bad usage (unreadable file, unset variable).
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

    Each leaf command sets ``run``: a function of the parsed arguments returning the exit code.
    """
    keys = subparsers.add_parser("keys", help="make login-token signing keys").add_subparsers(dest="keys_command", required=True)
    generate = keys.add_parser("generate", help="print a new key, its public JWK and the lines for the SCF console")
    generate.add_argument("--kind", choices=KINDS, default="ec", help="ec = P-256/ES256 (default), ed25519 = EdDSA, secret = HS256")
    generate.add_argument("--var", help="variable name in the printed lines [TOKEN_PRIVATE_KEY, or TOKEN_SECRET for --kind secret]")
    generate.set_defaults(run=generate_key)

    token = subparsers.add_parser("token", help="check a login token").add_subparsers(dest="token_command", required=True)
    verify = token.add_parser("verify", help="verify a login token and print its claims")
    verify.add_argument("token", help="the token, or - to read it from standard input")
    verify.add_argument("--audience", required=True, help="expected aud (TOKEN_AUDIENCE)")
    verify.add_argument("--issuer", required=True, help="expected iss (TOKEN_ISSUER)")
    source = verify.add_mutually_exclusive_group(required=True)
    source.add_argument("--jwks-url", help="the function's /.well-known/jwks.json")
    source.add_argument("--key", metavar="FILE", help="a PEM public (or private) key file, or a JWK JSON file")
    source.add_argument("--secret-env", metavar="VAR", help="environment variable holding the HS256 secret")
    verify.add_argument("--scene", help="required scene claim (login, register, ...)")
    verify.add_argument("--leeway", type=int, default=None, help="clock skew tolerated, seconds [30]")
    verify.set_defaults(run=verify_command)


def _pem_one_line(pem: str) -> str:
    """The PEM with its line breaks as spaces: one console field holds it, and TokenConfig reads it back."""
    return " ".join(pem.split())


def generate_key(args: argparse.Namespace, out: Any = None) -> int:
    """Print a new key of ``args.kind`` (see the module docstring)."""
    out = out or sys.stdout
    from smsverify.secret_strength import weak_secret_reason
    from smsverify.token import _b64url, jwk_thumbprint

    if args.kind == "secret":
        var = args.var or "TOKEN_SECRET"
        value = secrets.token_urlsafe(32)
        while weak_secret_reason(value) is not None:  # practically never; keeps the promise that it passes
            value = secrets.token_urlsafe(32)
        kid = jwk_thumbprint({"kty": "oct", "k": _b64url(value.encode("utf-8"))})
        if var == "TOKEN_SECRET":
            print(f"# A random secret (32 bytes, base64url). HS256 tokens will carry kid {kid}.", file=out)
            print("# Keep it secret: the backends that verify HS256 tokens need the same value.", file=out)
        else:
            print("# A random secret (32 bytes, base64url). Keep it secret.", file=out)
        print("# Paste into the SCF console (function configuration > environment variables):", file=out)
        print(f"{var}={value}", file=out)
        return 0

    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
    from jwt.algorithms import ECAlgorithm, OKPAlgorithm

    if args.kind == "ec":
        private: Any = ec.generate_private_key(ec.SECP256R1())
        algorithm, exporter, label = "ES256", ECAlgorithm, "EC P-256"
    else:
        private = ed25519.Ed25519PrivateKey.generate()
        algorithm, exporter, label = "EdDSA", OKPAlgorithm, "Ed25519"
    pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode("ascii")
    full = exporter.to_jwk(private.public_key(), as_dict=True)
    public = {name: full[name] for name in ("kty", "crv", "x", "y") if name in full}
    kid = jwk_thumbprint(public)
    var = args.var or "TOKEN_PRIVATE_KEY"
    print(f"# A new {label} private key ({algorithm}), PKCS#8. Keep it secret.", file=out)
    print(pem, end="", file=out)
    print("", file=out)
    print("# Its public JWK, as /.well-known/jwks.json will publish it:", file=out)
    print(json.dumps({**public, "kid": kid, "use": "sig", "alg": algorithm}), file=out)
    print("", file=out)
    print("# Paste into the SCF console (function configuration > environment variables), one variable a line:", file=out)
    print(f"{var}={_pem_one_line(pem)}", file=out)
    print("TOKEN_ISSUER=<who issues, e.g. https://sms.example.com>", file=out)
    print("TOKEN_AUDIENCE=<the backend that accepts the token, e.g. my-app-api>", file=out)
    print("# Rotating: first move the current TOKEN_PRIVATE_KEY value to TOKEN_PRIVATE_KEY_PREVIOUS.", file=out)
    return 0


def verify_command(args: argparse.Namespace) -> int:
    """Verify ``args.token``; print the claims as JSON (0) or the refusal (1); 2 on bad usage."""
    from smsverify.token import DEFAULT_LEEWAY_SECONDS, TokenInvalid, verify_token

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
        source["key"] = json.loads(text) if text.lstrip().startswith("{") else text
    else:
        value = os.environ.get(args.secret_env)
        if not value:
            print(f"smsverify: environment variable {args.secret_env} is not set", file=sys.stderr)
            return 2
        source["secret"] = value
    leeway = DEFAULT_LEEWAY_SECONDS if args.leeway is None else args.leeway
    try:
        claims = verify_token(
            token, audience=args.audience, issuer=args.issuer, scene=args.scene, leeway_seconds=leeway, **source
        )
    except TokenInvalid as exc:
        print(f"token refused: {exc.reason}: {exc.detail}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"smsverify: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(claims, ensure_ascii=False, indent=2))
    return 0
