"""`hotline ivr` subcommands for flow versions: publish a file, roll back, diff, list, audit."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ivr.diff import flow_diff
from ivr.validation import FlowError, InvalidFlow
from services.ivr_versions import IvrAdmin, IvrAdminError


def _print_errors(errors: Sequence[FlowError]) -> None:
    for error in errors:
        print(error, file=sys.stderr)  # where (node and field): problem


def _refused(exc: InvalidFlow | IvrAdminError) -> int:
    """An invalid flow's errors, one per line, or why the service refused; the exit code."""
    if isinstance(exc, InvalidFlow):
        _print_errors(exc.errors)
    else:
        print(exc, file=sys.stderr)
    return 1


def cmd_publish(admin: IvrAdmin, args: argparse.Namespace) -> int:
    try:
        source = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    try:
        version, errors = admin.draft(source, args.by, args.note)
        if errors:
            _print_errors(errors)
            print(f"{args.file} is invalid: kept as draft version {version.number}, not published", file=sys.stderr)
            return 1
        admin.publish(version.number, args.by)
    except (InvalidFlow, IvrAdminError) as exc:
        return _refused(exc)
    print(f"version {version.number} published from {args.file}: it is live")
    return 0


def cmd_rollback(admin: IvrAdmin, args: argparse.Namespace) -> int:
    try:
        version = admin.rollback(args.by, args.to)
    except (InvalidFlow, IvrAdminError) as exc:
        return _refused(exc)
    print(f"version {version.number} is live again")
    return 0


def _source(admin: IvrAdmin, ref: str) -> tuple[str, str]:
    """(source, label) of a version number or a file path (write ./3 for a file named 3)."""
    if ref.isdigit():
        return admin.version(int(ref)).source, f"version {ref}"
    return Path(ref).read_text(encoding="utf-8"), ref


def cmd_diff(admin: IvrAdmin, args: argparse.Namespace) -> int:
    try:
        (old, old_label), (new, new_label) = _source(admin, args.a), _source(admin, args.b)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"cannot read: {exc}", file=sys.stderr)
        return 1
    except IvrAdminError as exc:
        print(exc, file=sys.stderr)
        return 1
    diff = flow_diff(old, new, old_label, new_label)
    print(diff.unified, end="")
    for what, names in (
        ("nodes added", diff.added),
        ("nodes removed", diff.removed),
        ("nodes changed", diff.changed),
        ("prompts changed", diff.prompts_changed),
    ):
        if names:
            print(f"{what}: {', '.join(names)}")
    return 0


def cmd_versions(admin: IvrAdmin, _: argparse.Namespace) -> int:
    for v in admin.versions():
        print(f"{v.number:>5}  {v.status:<8} {v.created_at:%Y-%m-%d %H:%M} {v.created_by:<16} {v.note}")
    return 0


def cmd_audit(admin: IvrAdmin, args: argparse.Namespace) -> int:
    for e in admin.audit(args.limit):
        print(f"{e.at:%Y-%m-%d %H:%M:%S} {e.actor:<16} {e.action:<8} version {e.version:<5} {e.detail}")
    return 0


def register(ivr_sub: argparse._SubParsersAction, admin: Callable[[], IvrAdmin]) -> None:
    """Adds the version subcommands under `hotline ivr`; `admin` builds the service when one runs."""

    def handler(command: Callable[[IvrAdmin, argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        return lambda args: command(admin(), args)

    p = ivr_sub.add_parser("publish", help="store a flow file as a new version and make it live")
    p.add_argument("file")
    p.add_argument("--by", required=True, help="who publishes")
    p.add_argument("--note", default="", help="what changed, for the audit trail")
    p.set_defaults(func=handler(cmd_publish))
    p = ivr_sub.add_parser("rollback", help="make a version that was live before live again")
    p.add_argument("--to", type=int, help="version number (default: the one live before the live one)")
    p.add_argument("--by", required=True, help="who rolls back")
    p.set_defaults(func=handler(cmd_rollback))
    p = ivr_sub.add_parser("diff", help="what changed between two flows, each a version number or a file")
    p.add_argument("a")
    p.add_argument("b")
    p.set_defaults(func=handler(cmd_diff))
    ivr_sub.add_parser("versions", help="list flow versions, newest first").set_defaults(func=handler(cmd_versions))
    p = ivr_sub.add_parser("audit", help="drafts, publishes and rollbacks, newest first")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=handler(cmd_audit))
