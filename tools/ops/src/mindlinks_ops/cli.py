"""``mindlinks-ops``: the operator's command line.

Exit codes: 0 all well; 1 the command failed (the API refused, a peer could
not be reached, a service is not ready, a message was not found); 2 the
ledger is broken (``ledger verify``) or the command line was not valid.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from mindlinks_ops import commands, escrow
from mindlinks_ops.client import DEFAULT_API, AdminApi, CommandFailed, Login
from mindlinks_ops.console import Console
from mindlinks_ops.create_admin import at_the_terminal, auth_app, create_admin, read_password

ApiCommand = Callable[[AdminApi, argparse.Namespace, Console], Awaitable[int]]
NAME_MAX_LENGTH = 200
"""As auth's public ``Name``."""
NOTE_MIN_LENGTH = 3
"""As the admin API's resolution ``note``."""


def _name(raw: str) -> str:
    name = raw.strip()
    if not 1 <= len(name) <= NAME_MAX_LENGTH:
        raise argparse.ArgumentTypeError(f"give 1 to {NAME_MAX_LENGTH} characters")
    return name


def _limit(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError("not a number") from None
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError("give 1 to 100")
    return value


def _text(raw: str) -> str:
    if not raw.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return raw.strip()


def _minor_units(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError("not a whole number of minor units") from None
    if value < 1:
        raise argparse.ArgumentTypeError("give at least 1 (minor units to the contractor)")
    return value


def _note(raw: str) -> str:
    note = raw.strip()
    if len(note) < NOTE_MIN_LENGTH:
        raise argparse.ArgumentTypeError(f"give at least {NOTE_MIN_LENGTH} characters")
    return note


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="mindlinks-ops",
        description="Operate Mind-Links: create the first admin; inspect and repair the fleet "
        "through the audited admin API.",
        epilog="Exit codes: 0 all well, 1 failed, 2 ledger broken or invalid command line.",
    )
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    admin = sub.add_parser(
        "create-admin",
        help="create an admin account with auth's own code (run where auth's settings are)",
        description="Create an admin account by running the auth service's own code in this "
        "process, from this environment's MINDLINKS_* settings.",
    )
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", required=True, type=_name)
    admin.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin (else it is asked twice)",
    )
    fleet_state = admin.add_mutually_exclusive_group()
    fleet_state.add_argument(
        "--local",
        action="store_true",
        help="use the fleet `make run` is running (its .run/state.json) instead of MINDLINKS_*",
    )
    fleet_state.add_argument(
        "--state",
        type=Path,
        metavar="PATH",
        help="use the local fleet whose state file this is (`mindlinks-local --run-dir DIR` "
        "writes DIR/state.json) instead of MINDLINKS_*",
    )
    admin.add_argument("--json", action="store_true", help="print the account as JSON")
    admin.set_defaults(run=_create_admin)

    api = argparse.ArgumentParser(add_help=False)
    api.add_argument(
        "--api",
        default=os.environ.get("MINDLINKS_API_URL", DEFAULT_API),
        metavar="URL",
        help="the API's base URL (env MINDLINKS_API_URL; default %(default)s, the local edge)",
    )
    api.add_argument(
        "--email",
        help="sign in as this admin (password from MINDLINKS_ADMIN_PASSWORD or a prompt); "
        "without it, MINDLINKS_ADMIN_TOKEN is the bearer token",
    )
    api.add_argument("--otp", metavar="CODE", help="the one-time code, when MFA is on")
    api.add_argument("--json", action="store_true", help="print the API's answer as JSON")

    fleet = sub.add_parser("fleet", help="the fleet's health").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    status = fleet.add_parser(
        "status", parents=[api], help="every service's state; exit 1 if any is not ready"
    )
    status.set_defaults(run=_api(lambda c, a, o: commands.fleet_status(c, o, as_json=a.json)))

    dlq = sub.add_parser("dlq", help="dead-letter queues").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    listing = dlq.add_parser("list", parents=[api], help="dead letters with their error")
    listing.add_argument("--service", help="one service's (default: every service's)")
    listing.add_argument("--limit", type=_limit, default=50, help="1-100 (default %(default)s)")
    listing.set_defaults(
        run=_api(
            lambda c, a, o: commands.dlq_list(
                c, o, service=a.service, limit=a.limit, as_json=a.json
            )
        )
    )

    replay = dlq.add_parser(
        "replay", parents=[api], help="send dead letters back to their service's queue"
    )
    replay.add_argument("--service", required=True)
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--message-id", dest="message_ids", nargs="+", action="extend", metavar="ID")
    which.add_argument("--all", action="store_true", help="every dead letter of the service")
    replay.add_argument("--reason", type=_text, help="why (kept in the audit)")
    replay.set_defaults(
        run=_api(
            lambda c, a, o: commands.dlq_replay(
                c,
                o,
                service=a.service,
                message_ids=a.message_ids or [],
                replay_all=a.all,
                reason=a.reason,
                as_json=a.json,
            )
        )
    )

    discard = dlq.add_parser(
        "discard", parents=[api], help="drop dead letters (their bodies are kept in the audit)"
    )
    discard.add_argument("--service", required=True)
    discard.add_argument(
        "--message-id", dest="message_ids", nargs="+", action="extend", required=True, metavar="ID"
    )
    discard.add_argument("--reason", required=True, type=_text, help="why (kept in the audit)")
    discard.set_defaults(
        run=_api(
            lambda c, a, o: commands.dlq_discard(
                c, o, service=a.service, message_ids=a.message_ids, reason=a.reason, as_json=a.json
            )
        )
    )

    ledger = sub.add_parser("ledger", help="the ledger").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    verify = ledger.add_parser(
        "verify", parents=[api], help="verify the whole journal; exit 2 if it is broken"
    )
    verify.set_defaults(run=_api(lambda c, a, o: commands.ledger_verify(c, o, as_json=a.json)))

    items = sub.add_parser("escrow", help="escrowed items and their disputes").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    show = items.add_parser(
        "show", parents=[api], help="an item's state, history and ledger entries"
    )
    show.add_argument("escrow_id", metavar="ID")
    show.set_defaults(
        run=_api(lambda c, a, o: escrow.escrow_show(c, o, escrow_id=a.escrow_id, as_json=a.json))
    )
    resolve = items.add_parser(
        "resolve",
        parents=[api],
        help="resolve a disputed item: release, refund, or split (audited)",
        description="Resolve a disputed item: all to the contractor (--release), all back to "
        "the client (--refund), or --split N: N minor units to the contractor and the rest "
        "back to the client.",
    )
    resolve.add_argument("escrow_id", metavar="ID")
    outcome = resolve.add_mutually_exclusive_group(required=True)
    outcome.add_argument("--release", action="store_true", help="all to the contractor")
    outcome.add_argument("--refund", action="store_true", help="all back to the client")
    outcome.add_argument(
        "--split",
        type=_minor_units,
        metavar="RELEASED_MINOR",
        help="this many minor units to the contractor, the rest back to the client",
    )
    resolve.add_argument(
        "--note", required=True, type=_note, help="why (kept in the audit and the item's history)"
    )
    resolve.set_defaults(
        run=_api(
            lambda c, a, o: escrow.escrow_resolve(
                c,
                o,
                escrow_id=a.escrow_id,
                outcome="release" if a.release else "refund" if a.refund else "split",
                released_minor=a.split,
                note=a.note,
                as_json=a.json,
            )
        )
    )

    companies = sub.add_parser("companies", help="client companies").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    backfill = companies.add_parser(
        "backfill-members",
        parents=[api],
        help="give every company registered before teams its owner member (idempotent)",
    )
    backfill.add_argument(
        "--page-size", type=_limit, default=50, help="companies per call (1-100, default 50)"
    )
    backfill.set_defaults(
        run=_api(
            lambda c, a, o: commands.backfill_members(c, o, page_size=a.page_size, as_json=a.json)
        )
    )
    return root


@dataclass(frozen=True)
class Context:
    console: Console
    transport: httpx.AsyncBaseTransport | None
    """Lets tests reach the apps in-process."""


Runner = Callable[[argparse.Namespace, Context], Awaitable[int]]


def _api(command: ApiCommand) -> Runner:
    """Sign in (``--email``) or take ``MINDLINKS_ADMIN_TOKEN``, then run."""

    async def run(args: argparse.Namespace, context: Context) -> int:
        token = os.environ.get("MINDLINKS_ADMIN_TOKEN") or None
        if args.otp and not args.email:
            raise CommandFailed("--otp goes with --email", exit_code=2)
        if not args.email and not token:
            raise CommandFailed(
                "not signed in: give --email (password from MINDLINKS_ADMIN_PASSWORD or a prompt) "
                "or set MINDLINKS_ADMIN_TOKEN"
            )
        async with AdminApi(args.api, token=token, transport=context.transport) as api:
            if args.email:
                await api.sign_in(Login(args.email, otp=args.otp))
            return await command(api, args, context.console)

    return run


async def _create_admin(args: argparse.Namespace, context: Context) -> int:
    app = auth_app(
        local=args.local, state=args.state
    )  # before the password is asked: auth may not run here
    password = read_password(from_stdin=args.password_stdin)
    # At a terminal the operator proves a code before the admin exists; a
    # script gets the key in the answer and must keep it (it is shown once).
    at_terminal = not args.password_stdin
    created = await create_admin(
        app,
        email=args.email,
        name=args.name,
        password=password,
        confirm=at_the_terminal(context.console) if at_terminal else None,
    )
    if args.json:
        account = asdict(created)
        account["mfa"] = {"secret": created.mfa.secret, "otpauthUri": created.mfa.otpauth_uri}
        context.console.json(account)
        return commands.OK
    context.console.say(f"created admin {created.email} (id {created.id})")
    if not at_terminal:
        context.console.say(
            f"TOTP key (shown once; add it to an authenticator app): {created.mfa.secret}"
        )
        context.console.say(f"otpauth URI: {created.mfa.otpauth_uri}")
    return commands.OK


async def run(
    argv: Sequence[str],
    *,
    console: Console | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> int:
    """Parse and run one command; returns its exit code."""
    args = parser().parse_args(argv)
    context = Context(console or Console(), transport)
    try:
        code: int = await args.run(args, context)
    except CommandFailed as failed:
        context.console.warn(failed.message)
        return failed.exit_code
    return code


def main(argv: Sequence[str] | None = None) -> None:
    try:
        code = asyncio.run(run(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
