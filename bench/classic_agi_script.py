"""The same IVR as a classic AGI script: one fresh Python process per call, the AGI session on
its stdin/stdout (here a FastAGI socket handed over by bench/agi_calls.py's forking server, as
inetd would). The baseline our threaded FastAGI server is measured against."""

from __future__ import annotations

import os
import socket

from agi.channel import read_environment
from hotline.call_session import build_call_session
from hotline.settings import Settings
from services.calendar import WorkingCalendars
from storage.database import make_engine, make_session_factory


def main() -> None:
    settings = Settings()
    sessions = make_session_factory(make_engine(settings.database_url))
    session = build_call_session(settings, sessions, WorkingCalendars(sessions))
    sock = socket.socket(fileno=os.dup(0))
    env, reader = read_environment(sock, settings.agi_header_timeout)
    session(sock, reader, env)


if __name__ == "__main__":
    main()
