"""The `hotline` command."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hotline.calendar_cli import register as register_calendar
from hotline.settings import REPO_ROOT, RUN_DIR, SECRETS_FILE, Settings, ensure_secrets_file

ASTERISK_SCRIPT = REPO_ROOT / "scripts" / "asterisk.sh"


def _settings() -> Settings:
    from storage.private_files import private_dir

    ensure_secrets_file()
    private_dir(RUN_DIR)  # the database, secrets, spools and callers' audio live here by default
    return Settings()


def cmd_init(_: argparse.Namespace) -> None:
    from storage.migrate import upgrade_database

    settings = _settings()
    upgrade_database(settings.database_url)
    entered = _calendars(settings).seed_known_years()
    print(f"database ready: {settings.database_url}" + (f" (calendar years entered: {entered})" if entered else ""))


def _calendars(settings: Settings | None = None):
    from services.calendar import WorkingCalendars
    from storage.database import make_engine, make_session_factory

    settings = settings or _settings()
    return WorkingCalendars(make_session_factory(make_engine(settings.database_url)))


def cmd_asterisk_config(args: argparse.Namespace) -> None:
    from telephony.asterisk_config import render_config

    settings = _settings()
    conf = render_config(settings, Path(args.root) if args.root else settings.asterisk_root)
    print(f"rendered {conf} (IVR prompts are installed by the FastAGI server as flows go live)")


def cmd_agi(_: argparse.Namespace) -> None:
    from hotline.system import STOP_GRACE_SECONDS, build_agi_server
    from services.calendar import WorkingCalendars
    from storage.database import make_engine, make_session_factory

    settings = _settings()
    sessions = make_session_factory(make_engine(settings.database_url))
    server = build_agi_server(settings, sessions, WorkingCalendars(sessions))
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a service manager stops it as Ctrl-C does
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.shutdown(STOP_GRACE_SECONDS)  # calls in the IVR now finish first


def cmd_up(_: argparse.Namespace) -> None:
    from hotline.system import run_system
    from storage.migrate import upgrade_database

    settings = _settings()
    upgrade_database(settings.database_url)
    # SIGTERM as Ctrl-C: the API's server stops gracefully on either and run_system then stops the rest;
    # outside it, KeyboardInterrupt. Either way Asterisk is stopped.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        subprocess.run([str(ASTERISK_SCRIPT), "start"], check=True)
        print(_how_to_call(settings), flush=True)
        asyncio.run(run_system(settings))
    except KeyboardInterrupt:
        pass
    finally:
        subprocess.run([str(ASTERISK_SCRIPT), "stop"], check=False)


def _how_to_call(settings: Settings) -> str:
    agent = settings.queue_agents[0]
    host = settings.bind_host
    return f"""
hotline12345 is up: Asterisk SIP on {host}:{settings.sip_port}, FastAGI on {settings.agi_url},
agent API on http://{host}:{settings.api_port}/api/v1/health, database {settings.database_url}.

Register a softphone (any SIP client on this machine):
  server {host}:{settings.sip_port} (UDP)   user {agent}   password: `.venv/bin/hotline sip-credentials`
  (it prints every agent's and department phone's; they derive from HOTLINE_SIP_SECRET in {SECRETS_FILE})
Then log the agent in to the queues, so calls ring that phone:
  .venv/bin/hotline user add wang --role agent        (asks for a password)
  TOKEN=$(curl -s -X POST http://{host}:{settings.api_port}/api/v1/auth/login -H 'content-type: application/json' \\
            -d '{{"username":"wang","password":"…"}}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  curl -X POST http://{host}:{settings.api_port}/api/v1/agent/login -H "authorization: Bearer $TOKEN" \\
       -H 'content-type: application/json' -d '{{"extension":"{agent}"}}'

Place a call to 12345 as the carrier would (SIPp; the call is answered, greeted, queued):
  sipp -sn uac -s 12345 -m 1 -d 20000 -i {host} -p 5070 {host}:{settings.sip_port}

Speech: the Vosk model is read from {settings.asr_model_dir} (`hotline asr check`; README, "The speech
model"); without it calls go on and callers' audio waits on disk to be transcribed.
Recent calls: `hotline calls`.  Callbacks: GET /api/v1/callbacks.  Stop: Ctrl-C or SIGTERM.
"""


def cmd_sip_credentials(_: argparse.Namespace) -> None:
    settings = _settings()
    for ext in settings.queue_agents + settings.department_extensions:
        print(f"{ext}\t{settings.sip_password(ext)}")


def _catalogue(settings: Settings):
    from hotline.flows import flow_catalogue, prompt_audio_store

    return flow_catalogue(settings, prompt_audio_store(settings))


def cmd_ivr_validate(args: argparse.Namespace) -> int:
    from ivr.validation import InvalidFlow, load_flow

    settings = Settings()
    path = Path(args.file) if args.file else settings.ivr_flow_file
    try:
        flow = load_flow(path, _catalogue(settings))
    except InvalidFlow as exc:
        print(exc, file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"{path}: valid ({len(flow.nodes)} nodes, {len(flow.prompts)} prompts)")
    return 0


def cmd_ivr_simulate(args: argparse.Namespace) -> int:
    from domain.tickets import SHANGHAI
    from ivr.engine import CallFacts, QueueStatus
    from ivr.simulate import World, describe, simulate
    from ivr.validation import InvalidFlow, load_flow
    from services.ivr_versions import IvrAdminError

    settings = Settings()
    try:
        flow = _ivr_admin().flow(args.version) if args.version else load_flow(Path(args.file), _catalogue(settings))
        now = datetime.fromisoformat(args.time) if args.time else datetime.now(UTC)
    except InvalidFlow as exc:
        print(exc, file=sys.stderr)
        return 1
    except (OSError, ValueError, LookupError, IvrAdminError) as exc:
        print(f"cannot simulate: {exc}", file=sys.stderr)
        return 1
    facts = CallFacts(args.caller, args.barred, now if now.tzinfo else now.replace(tzinfo=SHANGHAI), args.longest_wait)
    world = World(
        tickets=dict(t.split("=", 1) for t in args.ticket),
        recent_calls=args.recent_calls,
        queue=QueueStatus(args.queue_waiting, args.queue_wait),
        callback_booked=not args.callback_fails,
        calendar=_calendars(settings).in_force(),
    )
    run = simulate(flow, facts, [k for k in args.keys.split(",") if k] if args.keys else [], world)
    for event in run.events:
        print(f"  {event}")
    print(f"-> {describe(run.decision)}")
    if run.inputs_left:
        print(f"(never listened for: {', '.join(run.inputs_left)})")
    return 0


def cmd_bar(args: argparse.Namespace) -> None:
    from storage.barred_callers import bar_caller
    from storage.database import make_engine, make_session_factory

    settings = _settings()
    now = datetime.now(UTC)
    with make_session_factory(make_engine(settings.database_url)).begin() as session:
        bar_caller(session, args.number, args.reason, args.by, now, now + timedelta(days=args.days))
    print(f"{args.number} barred from 12345 for {args.days} days")


def cmd_user_add(args: argparse.Namespace) -> int:
    from agent_api.passwords import hash_password
    from storage.database import make_engine, make_session_factory
    from storage.users import create_user

    if args.role == "department" and not args.unit:
        print("a department user needs --unit (the department's code)", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("password: ")
    if len(password) < 8:
        print("the password needs at least 8 characters", file=sys.stderr)
        return 2
    settings = _settings()
    with make_session_factory(make_engine(settings.database_url)).begin() as session:
        create_user(session, args.username, hash_password(password), args.role, args.name or args.username, args.unit)
    print(f"user {args.username} ({args.role}) created")
    return 0


def cmd_departments_import(args: argparse.Namespace) -> int:
    from routing.departments import InvalidDepartments, load_departments
    from storage.database import make_engine, make_session_factory
    from storage.departments import replace_departments

    try:
        tree = load_departments(Path(args.file))
    except InvalidDepartments as exc:
        print(exc, file=sys.stderr)
        return 1
    settings = _settings()
    with make_session_factory(make_engine(settings.database_url)).begin() as session:
        count = replace_departments(session, tree)
    print(f"{count} departments imported from {args.file}")
    return 0


def cmd_triage(args: argparse.Namespace) -> int:
    import json

    from routing.departments import InvalidDepartments
    from routing.triage import triage_report

    try:
        report = triage_report(Path(args.departments), args.text)
    except InvalidDepartments as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(f"type {report['type']}, urgent {report['urgent']}")
        for dept in report["departments"]:
            print(f"  {dept['code']:<12} {dept['score']:6.1f}  {' '.join(dept['matched'])}")
    return 0


def cmd_calls(args: argparse.Namespace) -> None:
    from storage.call_records import list_call_records
    from storage.database import make_engine, make_session_factory

    settings = _settings()
    with make_session_factory(make_engine(settings.database_url))() as session:
        for r in list_call_records(session, limit=args.limit):
            print(
                f"{r.started_at:%Y-%m-%d %H:%M:%S} {r.uniqueid} from {r.caller or '-'} path={r.ivr_path or '-'} "
                f"{r.route_action or '-'} {r.queue or r.transfer_target or '-'} wait={r.wait_seconds} "
                f"agent={r.agent or '-'} talk={r.talk_seconds} abandoned={r.abandoned} cause={r.hangup_cause}"
            )


def cmd_asr_check(args: argparse.Namespace) -> int:
    from asr.model import ModelError, check_model_dir, model_digest

    settings = _settings()
    path = Path(args.model_dir) if args.model_dir else settings.asr_model_dir
    try:
        check_model_dir(path, settings.asr_model_sha256)
    except ModelError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{path}: a complete Vosk model; digest {model_digest(path)} (pin it as HOTLINE_ASR_MODEL_SHA256)")
    return 0


def _ivr_admin():
    """The IVR versions service over the configured database."""
    from hotline.flows import build_ivr_admin
    from storage.database import make_engine, make_session_factory

    settings = _settings()
    return build_ivr_admin(settings, make_session_factory(make_engine(settings.database_url)))


def _register_ivr_versions(ivr: argparse._SubParsersAction) -> None:
    from hotline.ivr_cli import register

    register(ivr, _ivr_admin)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline", description="hotline12345 contact-centre backend")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="create secrets and migrate the database").set_defaults(func=cmd_init)
    p = sub.add_parser("asterisk-config", help="render asterisk_conf/ into the chroot")
    p.add_argument("--root", help="Asterisk chroot (default: settings)")
    p.set_defaults(func=cmd_asterisk_config)
    sub.add_parser("agi", help="run the FastAGI server").set_defaults(func=cmd_agi)
    sub.add_parser("up", help="start Asterisk and run FastAGI, call recorder and API").set_defaults(func=cmd_up)
    sub.add_parser("sip-credentials", help="print softphone extensions and passwords").set_defaults(
        func=cmd_sip_credentials
    )
    ivr = sub.add_parser("ivr", help="IVR flows").add_subparsers(dest="ivr_command", required=True)
    p = ivr.add_parser("validate", help="check a flow file's shape and meaning")
    p.add_argument("file", nargs="?", help="flow file; the shipped flow (HOTLINE_IVR_FLOW_FILE) if left out")
    p.set_defaults(func=cmd_ivr_validate)
    p = ivr.add_parser(
        "simulate",
        help="dry-run a flow: the path a call takes with the keys, time and caller given",
        description="KEYS: one entry per point where the flow listens (a play with keys, a menu, digits, a callback "
        "offer, a voice message), comma-separated; '-' for no key, digits for a number, any word for speech.",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("file", nargs="?", help="flow file")
    source.add_argument("--version", type=int, help="a stored flow version instead of a file")
    p.add_argument("--keys", default="", help="e.g. 9,2026120100001,0")
    p.add_argument("--time", help="local time (ISO, Asia/Shanghai unless an offset is given); default now")
    p.add_argument("--caller", default="13800138000")
    p.add_argument("--barred", action="store_true")
    p.add_argument("--longest-wait", type=float, default=0.0, help="seconds the longest caller has waited")
    p.add_argument("--recent-calls", type=int, default=0, help="the caller's calls in the condition's window")
    p.add_argument("--ticket", action="append", default=[], metavar="NUMBER=STATUS", help="a ticket the lookup finds")
    p.add_argument("--queue-waiting", type=int, default=0)
    p.add_argument("--queue-wait", type=int, default=0, help="the queue's average wait, seconds")
    p.add_argument("--callback-fails", action="store_true", help="booking a kept-place callback fails")
    p.set_defaults(func=cmd_ivr_simulate)
    _register_ivr_versions(ivr)
    register_calendar(sub, _calendars)
    p = sub.add_parser("bar", help="bar a caller from 12345")
    p.add_argument("number")
    p.add_argument("--reason", required=True)
    p.add_argument("--by", required=True, help="who decided")
    p.add_argument("--days", type=int, default=30)
    p.set_defaults(func=cmd_bar)
    departments = sub.add_parser("departments", help="the department tree").add_subparsers(
        dest="departments_command", required=True
    )
    p = departments.add_parser("import", help="replace the department tree with a JSON file's")
    p.add_argument("file")
    p.set_defaults(func=cmd_departments_import)
    p = sub.add_parser("triage", help="request type, urgency and ranked departments for a request text")
    p.add_argument("--departments", required=True, help="department JSON file")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("text")
    p.set_defaults(func=cmd_triage)
    user = sub.add_parser("user", help="API users").add_subparsers(dest="user_command", required=True)
    p = user.add_parser("add", help="create a user (asks for the password)")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=["agent", "supervisor", "admin", "department"])
    p.add_argument("--unit", help="department code, for department users")
    p.add_argument("--name", help="display name")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(func=cmd_user_add)
    asr = sub.add_parser("asr", help="speech recognition").add_subparsers(dest="asr_command", required=True)
    p = asr.add_parser("check", help="check the Vosk model directory and print its digest")
    p.add_argument("--model-dir", help="default: HOTLINE_ASR_MODEL_DIR")
    p.set_defaults(func=cmd_asr_check)
    p = sub.add_parser("calls", help="list recent call records")
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(func=cmd_calls)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.umask(0o077)  # secrets, the database and callers' audio are for this user only
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
