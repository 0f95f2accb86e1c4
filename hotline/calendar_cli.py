"""`hotline calendar`: the working calendar's years, a year's days, and entering next year's notice
(preview first)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

from domain.calendar_notice import InvalidNotice
from services.calendar import CalendarChange, CalendarChangedMeanwhile, WorkingCalendars

EXAMPLE = files("domain") / "calendars" / "2026.yaml"


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"cannot read {path}: {exc}", file=sys.stderr)
        return None


def _print_change(change: CalendarChange) -> None:
    notice, summary = change.notice, change.summary
    replaces = f" (replaces version {change.replaces_version})" if change.replaces_version else " (the year's first)"
    print(f"{notice.year} {notice.scope}: {notice.title}{replaces}")
    print(f"  {len(notice.days_off())} days off, {len(notice.make_up_workdays())} make-up working days")
    for day in change.day_changes:
        print(
            f"  {day.day} {day.day.strftime('%a')}: {'working day' if day.is_workday else 'day off'} "
            f"(was {'working day' if day.was_workday else 'day off'})"
        )
    shifts = ", ".join(f"{days:+d} days: {count}" for days, count in summary.by_shift_days.items())
    print(
        f"  open tickets rechecked: {summary.tickets_rechecked}; deadlines moved: {summary.deadlines_moved}"
        + (f" ({shifts})" if shifts else "")
        + (f"; set where there was none: {summary.deadlines_set}" if summary.deadlines_set else "")
    )
    print(f"  provisional deadlines: {summary.provisional_before} before, {summary.provisional_after} after")
    for move in change.moves[:20]:
        before = move.before.close_by.date() if move.before else "none"
        print(
            f"    {move.number}: {before} -> {move.after.close_by.date()}"
            + (" (provisional)" if move.after.provisional else "")
        )
    if len(change.moves) > 20:
        print(f"    … and {len(change.moves) - 20} more")


def cmd_years(calendars: WorkingCalendars, _: argparse.Namespace) -> int:
    for year in calendars.years():
        national = year.national
        source = f"version {national.version} from {national.source_file}, {national.imported_by}" if national else "-"
        local = f"; local closed days: version {year.local.version}" if year.local else ""
        print(f"{year.year}  {year.state:<11}  {source}{local}")
    for warning in calendars.status().warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def cmd_show(calendars: WorkingCalendars, args: argparse.Namespace) -> int:
    year = calendars.year(args.year)
    print(f"{year.year}: {year.state}")
    for version in (year.national, year.local):
        if version is None:
            continue
        print(
            f"{version.scope} version {version.version}: {version.notice.title} "
            f"({version.source_file}, {version.imported_by}, {version.imported_at:%Y-%m-%d %H:%M})"
        )
        for holiday in version.notice.holidays:
            work = ", ".join(str(day) for day in holiday.make_up_workdays)
            print(
                f"  {holiday.name}: {holiday.first_day} to {holiday.last_day} off"
                + (f"; make-up working days {work}" if work else "")
            )
    return 0


def cmd_history(calendars: WorkingCalendars, args: argparse.Namespace) -> int:
    for version in calendars.history(args.year):
        print(
            f"{version.imported_at:%Y-%m-%d %H:%M}  {version.year} {version.scope} v{version.version}  "
            f"{version.imported_by}  {version.source_file}  {version.note}"
        )
    return 0


def _refused(exc: InvalidNotice | CalendarChangedMeanwhile, path: str) -> int:
    if isinstance(exc, InvalidNotice):
        for error in exc.errors:
            print(f"{path}: {error}", file=sys.stderr)
        print(f"{path} is invalid: nothing was changed", file=sys.stderr)
    else:
        print(exc, file=sys.stderr)
    return 1


def cmd_preview(calendars: WorkingCalendars, args: argparse.Namespace) -> int:
    source = _read(args.file)
    if source is None:
        return 1
    try:
        change = calendars.preview(source, Path(args.file).name)
    except InvalidNotice as exc:
        return _refused(exc, args.file)
    _print_change(change)
    print("nothing was changed (preview): enter it with `hotline calendar import`")
    return 0


def cmd_import(calendars: WorkingCalendars, args: argparse.Namespace) -> int:
    source = _read(args.file)
    if source is None:
        return 1
    try:
        change = calendars.enter(source, Path(args.file).name, args.by)
    except (InvalidNotice, CalendarChangedMeanwhile) as exc:
        return _refused(exc, args.file)
    _print_change(change)
    print(f"entered as {change.notice.year} {change.notice.scope} version {change.version}")
    return 0


def cmd_example(_: WorkingCalendars, __: argparse.Namespace) -> int:
    print(EXAMPLE.read_text(encoding="utf-8"), end="")
    return 0


def register(sub: argparse._SubParsersAction, calendars: Callable[[], WorkingCalendars]) -> None:
    calendar = sub.add_parser("calendar", help="the working calendar (holidays, make-up working days)")
    commands = calendar.add_subparsers(dest="calendar_command", required=True)

    def add(
        name: str, handler: Callable[[WorkingCalendars, argparse.Namespace], int], help_: str
    ) -> argparse.ArgumentParser:
        parser = commands.add_parser(name, help=help_)
        parser.set_defaults(func=lambda args: handler(calendars(), args))
        return parser

    add("years", cmd_years, "years and their state (confirmed or provisional)")
    add("show", cmd_show, "a year's holidays and make-up working days").add_argument("year", type=int)
    add("history", cmd_history, "every version entered, oldest first").add_argument("year", type=int, nargs="?")
    add("preview", cmd_preview, "what a notice file would change; nothing is stored").add_argument("file")
    p = add("import", cmd_import, "enter a notice file as its year's next version, moving deadlines")
    p.add_argument("file")
    p.add_argument("--by", required=True, help="who enters it (recorded)")
    add("example", cmd_example, "print the shipped 2026 notice, the shape of every notice file")
