"""The `lookahead` command."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import Engine

from server.auth.roles import Role
from server.auth.tokens import create_token, list_tokens, revoke_token
from server.settings import Settings
from server.storage.engine import make_engine

logger = logging.getLogger("lookahead")


def _engine(settings: Settings) -> Engine:
    from server.app import prepare_database

    engine = make_engine(
        settings.resolved_database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms
    )
    prepare_database(engine)
    return engine


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from server.app import create_app

    engine = _engine(settings)
    if args.demo:
        from server.demo import prepare_demo

        tokens = prepare_demo(engine)
        print("\nDemo API tokens (shown once; a new set is made at each demo start):")
        for token in tokens:
            print(f"  {token.role.name.lower():<12} {token.secret}")
        print()
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    logger.info(
        "serving GraphQL on http://%s:%s/graphql and the app on http://%s:%s/",
        host,
        port,
        host,
        port,
    )
    uvicorn.run(create_app(settings, engine), host=host, port=port, log_level="info")
    return 0


def _tokens(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(settings)
    if args.tokens_command == "create":
        expires = timedelta(days=args.expires_days) if args.expires_days else None
        issued = create_token(engine, Role.parse(args.role), args.name, expires_in=expires)
        print(issued.secret)
        print(
            f"token {issued.id} ({issued.role.name.lower()}) created; store it now, "
            "it is not shown again",
            file=sys.stderr,
        )
        return 0
    if args.tokens_command == "list":
        for row in list_tokens(engine):
            state = "revoked" if row["revoked_at"] else "active"
            print(f"{row['id']:>5}  {row['role']:<12} {row['prefix']}…  {state:<8} {row['name']}")
        return 0
    if not revoke_token(engine, args.id):
        print(f"no active token has id {args.id}; see 'lookahead tokens list'", file=sys.stderr)
        return 1
    print(f"token {args.id} revoked")
    return 0


def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    from server.ingestion import IngestionError, load_orders

    engine = _engine(settings)
    try:
        report = load_orders(engine, args.file, args.format, source=args.source or args.format)
    except IngestionError as error:
        print(f"load failed, nothing was written: {error}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


def _schema(_args: argparse.Namespace, _settings: Settings) -> int:
    from server.graphql.schema import schema

    print(schema.as_str())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lookahead", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve GraphQL, GraphiQL and the app")
    serve.add_argument(
        "--demo",
        action="store_true",
        help="load the bundled data and run the demo predictions first",
    )
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8000)")
    serve.set_defaults(handler=_serve)

    tokens = commands.add_parser("tokens", help="manage API tokens")
    token_commands = tokens.add_subparsers(dest="tokens_command", required=True)
    create = token_commands.add_parser("create", help="create a token and print its secret")
    create.add_argument("--role", required=True, help="viewer, contributor or admin")
    create.add_argument("--name", default="cli", help="a label to recognise the token by")
    create.add_argument("--expires-days", type=int, help="days until the token expires")
    token_commands.add_parser("list", help="list tokens without their secrets")
    revoke = token_commands.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id", type=int)
    tokens.set_defaults(handler=_tokens)

    ingest = commands.add_parser("ingest", help="load order lines from a file")
    ingest.add_argument("kind", choices=["orders"], help="what the file holds")
    ingest.add_argument("file", help="path of the CSV file (gzip allowed)")
    ingest.add_argument("--format", required=True, help="built-in mapping: cdnow or superstore")
    ingest.add_argument("--source", help="name of the source (default: the format)")
    ingest.set_defaults(handler=_ingest)

    schema = commands.add_parser("schema", help="print the GraphQL schema (SDL)")
    schema.set_defaults(handler=_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args, Settings.from_env()))
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
