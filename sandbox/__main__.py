"""Command line: `python -m sandbox [serve] [--host H] [--port P] [--database-url URL]` and
`python -m sandbox seed [--reset] [--database-url URL]`.

Options override the SANDBOX_* environment variables for this run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from sandbox.settings import SandboxSettings


def _settings(args: argparse.Namespace, **extra: Any) -> SandboxSettings:
    overrides: dict[str, Any] = dict(extra)
    if args.database_url:
        overrides["database_url"] = args.database_url
    for name in ("host", "port"):
        if getattr(args, name, None) is not None:
            overrides[name] = getattr(args, name)
    return SandboxSettings(**overrides)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from sandbox.app import create_app

    settings = _settings(args)
    app = create_app(settings)
    print(f"Sandbox platform on http://{settings.host}:{settings.port}/api/v1 (docs: /api/v1/docs)")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level)
    return 0


def _seed(args: argparse.Namespace) -> int:
    from sandbox.seed import DEMO_LOGINS, issue_verification_tokens, reset_database, seed_if_empty
    from sandbox.shared.config import load_platform_config
    from sandbox.shared.db import create_schema, make_engine, make_session_factory

    settings = _settings(args)
    config = load_platform_config(settings.platform_config)
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    try:
        if args.reset:
            reset_database(engine, factory, config)
            print("Database reset and seeded.")
        else:
            create_schema(engine)
            seeded = seed_if_empty(factory, config)
            print("Database seeded." if seeded else "Database already has data; use --reset to start over.")
        tokens = issue_verification_tokens(factory)
    finally:
        engine.dispose()
    for org, logins in DEMO_LOGINS.items():
        for role, (email, password) in logins.items():
            print(f"  {org:22} {role:19} {email:40} {password}")
    if tokens:
        print("Unverified instructors: POST /api/v1/auth/verify-email with one of these new tokens")
        print("(shown only here; running this command again replaces them):")
        for org, (email, token) in tokens.items():
            print(f"  {org:22} {email:40} {token}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Sandbox Course Creator Platform")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the API with uvicorn (the default command)")
    serve.add_argument("--host", default=None, help="interface to listen on (SANDBOX_HOST)")
    serve.add_argument("--port", type=int, default=None, help="port to listen on (SANDBOX_PORT)")
    serve.add_argument("--database-url", default=None, help="SQLAlchemy URL (SANDBOX_DATABASE_URL)")
    seed = sub.add_parser("seed", help="load the demo data into an empty database")
    seed.add_argument("--reset", action="store_true", help="drop every table first, then seed")
    seed.add_argument("--database-url", default=None, help="SQLAlchemy URL (SANDBOX_DATABASE_URL)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; without one, `serve` (so `python -m sandbox --port 9000` works)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or arguments[0] not in ("serve", "seed", "-h", "--help"):
        arguments = ["serve", *arguments]
    args = build_parser().parse_args(arguments)
    from sandbox.shared.signing_key import InsecureSigningKey

    try:
        return _seed(args) if args.command == "seed" else _serve(args)
    except InsecureSigningKey as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
