"""The `lookahead` command."""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from server.auth.roles import Role
from server.auth.tokens import create_token, list_tokens, revoke_token
from server.ingestion.cli_ingest import add_arguments as add_ingest_arguments
from server.settings import Settings
from server.storage.engine import make_engine
from server.storage.migrate import UpgradeBlockedError, upgrade

logger = logging.getLogger("lookahead")

# The same bound as the createToken mutation: ten years.
MAX_EXPIRES_DAYS = 3650
# Database ids are signed 64-bit integers.
MAX_ID = 2**63 - 1
MAX_PORT = 65535
MAX_GENERATED_CUSTOMERS = 10_000_000


def _seed(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit():
        raise argparse.ArgumentTypeError(f"invalid seed {raw!r}; use a whole number of 0 or more")
    return int(raw)


def _port(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_PORT:
        raise argparse.ArgumentTypeError(
            f"invalid port {raw!r}; use a whole number from 1 to {MAX_PORT}"
        )
    return int(raw)


def _customers(raw: str) -> int:
    # Kept in step with server.generate.MAX_CUSTOMERS, which is not imported here
    # because the generator loads numpy and pyarrow.
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_GENERATED_CUSTOMERS:
        raise argparse.ArgumentTypeError(
            f"invalid number of customers {raw!r}; use a whole number from 1 to "
            f"{MAX_GENERATED_CUSTOMERS:,}"
        )
    return int(raw)


def _out_dir(raw: str) -> str:
    if not raw.strip():
        raise argparse.ArgumentTypeError(
            "the output folder is empty; name a folder such as data/generated"
        )
    return raw


def _token_id(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        raise argparse.ArgumentTypeError(f"invalid token id {raw!r}; see 'lookahead tokens list'")
    return int(raw)


def _engine(settings: Settings) -> Engine:
    """Open the database and bring its schema up to date.

    Only the server recovers from interrupted runs: a command run beside a live
    server must not fail the runs that server is executing.
    """
    engine = make_engine(
        settings.resolved_database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms
    )
    try:
        upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def _check_port_free(host: str, port: int) -> None:
    """Raise ValueError when `host:port` cannot be bound, before any demo work starts."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ValueError(
                f"cannot listen on {host}:{port} ({error.strerror}); stop the server that "
                "uses it or pass --port with a free port"
            ) from None


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from server.app import create_app, prepare_database

    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    _check_port_free(host, port)
    engine = _engine(settings)
    prepare_database(engine)
    if args.demo:
        from server.demo import prepare_demo

        tokens = prepare_demo(engine)
        print("\nDemo API tokens (shown once; a new set is made at each demo start):")
        for token in tokens:
            print(f"  {token.role.name.lower():<12} {token.secret}")
        print()
    logger.info(
        "serving GraphQL on http://%s:%s/graphql and the app on http://%s:%s/",
        host,
        port,
        host,
        port,
    )
    uvicorn.run(
        create_app(settings, engine),
        host=host,
        port=port,
        log_level="info",
        access_log=args.access_log,
    )
    return 0


def _tokens(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(settings)
    try:
        return _run_tokens_command(args, engine)
    finally:
        engine.dispose()


def _run_tokens_command(args: argparse.Namespace, engine: Engine) -> int:
    if args.tokens_command == "create":
        if args.expires_days is not None and not 1 <= args.expires_days <= MAX_EXPIRES_DAYS:
            raise ValueError(
                f"--expires-days must be from 1 to {MAX_EXPIRES_DAYS}, got {args.expires_days}"
            )
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
            state = "revoked" if row["revoked_at"] else _expiry_state(row["expires_at"])
            print(f"{row['id']:>5}  {row['role']:<12} {row['prefix']}…  {state:<8} {row['name']}")
        return 0
    if not revoke_token(engine, args.id):
        print(f"no active token has id {args.id}; see 'lookahead tokens list'", file=sys.stderr)
        return 1
    print(f"token {args.id} revoked")
    return 0


def _expiry_state(expires_at: object) -> str:
    if not isinstance(expires_at, datetime):
        return "active"
    aware = expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=UTC)
    return "expired" if aware <= datetime.now(UTC) else "active"


def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    from server.ingestion.cli_ingest import run_ingest

    engine = _engine(settings)
    try:
        return run_ingest(args, engine)
    finally:
        engine.dispose()


def _schema(_args: argparse.Namespace, _settings: Settings) -> int:
    from server.graphql.schema import schema

    print(schema.as_str())
    return 0


def _generate(args: argparse.Namespace, _settings: Settings) -> int:
    from server.generate import generate

    result = generate(
        args.out_dir,
        args.customers,
        args.seed,
        args.format,
        chunk_customers=args.chunk_customers,
    )
    print(result.summary())
    for path in result.paths.values():
        print(f"  {path}")
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
    serve.add_argument(
        "--port", type=_port, help=f"port to listen on, 1 to {MAX_PORT} (default 8000)"
    )
    serve.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="log one line per HTTP request (default: on). Errors are logged either way.",
    )
    serve.set_defaults(handler=_serve)

    tokens = commands.add_parser("tokens", help="manage API tokens")
    token_commands = tokens.add_subparsers(dest="tokens_command", required=True)
    create = token_commands.add_parser("create", help="create a token and print its secret")
    create.add_argument("--role", required=True, help="viewer, contributor or admin")
    create.add_argument("--name", default="cli", help="a label to recognise the token by")
    create.add_argument("--expires-days", type=int, help="days until the token expires")
    token_commands.add_parser("list", help="list tokens without their secrets")
    revoke = token_commands.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id", type=_token_id, help="the id shown by 'lookahead tokens list'")
    tokens.set_defaults(handler=_tokens)

    ingest = commands.add_parser(
        "ingest", help="load orders, subscriptions, customers or products from a file"
    )
    add_ingest_arguments(ingest)
    ingest.set_defaults(handler=_ingest)

    generate = commands.add_parser(
        "generate", help="write seeded synthetic customers, products, orders and subscriptions"
    )
    generate.add_argument(
        "out_dir",
        type=_out_dir,
        help="folder to write the files to (created if missing); files of the same names "
        "in it are replaced once every file is complete",
    )
    generate.add_argument(
        "--customers",
        type=_customers,
        required=True,
        help=f"number of customers, 1 to {MAX_GENERATED_CUSTOMERS:,}",
    )
    generate.add_argument(
        "--seed", type=_seed, required=True, help="seed of every random draw (0 or more)"
    )
    generate.add_argument("--format", choices=["csv", "parquet"], default="csv")
    generate.add_argument(
        "--chunk-customers",
        type=int,
        default=50_000,
        help="customers held in memory at once (default 50000); does not change the output",
    )
    generate.set_defaults(handler=_generate)

    schema = commands.add_parser("schema", help="print the GraphQL schema (SDL)")
    schema.set_defaults(handler=_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Alembic reports each plugin it sets up at INFO; only its migration steps matter here.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args, Settings.from_env()))
    except (ValueError, UpgradeBlockedError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        # A missing file, a folder given as a file, an existing output: print the path.
        where = f": {error.filename}" if error.filename else ""
        print(f"error: {error.strerror or error}{where}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
