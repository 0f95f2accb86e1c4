"""The names our Python and the shipped dialplan (asterisk_conf/extensions.conf) share: contexts,
channel variables and UserEvents. tests/unit/test_dialplan_names.py checks that each one here is in
extensions.conf and each one there is here, so neither side can rename one alone."""

from __future__ import annotations

from enum import StrEnum


class Context(StrEnum):
    FROM_CARRIER = "from-carrier"
    HOTLINE = "hotline"  # every 12345 call: our AGI decides
    ROUTE = "hotline-route"  # the dialplan acts on the decision; every failure ends in a queue
    TARGETS = "hotline-targets"  # where the IVR may transfer a caller
    HOLD = "cti-hold"
    CONSULT = "cti-consult"
    TRANSFER = "cti-transfer"
    CONFERENCE = "cti-conference"
    BARRED_LIST = "hotline-barred-list"  # our service writes the barred list into AstDB through it
    CALLBACK_PLACE = "hotline-callback-place"  # a caller's kept place in line
    CALLBACK = "cti-callback"
    AGENTS = "agents"
    DEPARTMENTS = "departments"
    CALLER_SIM = "caller-sim"  # the far end of calls originated without a phone (tests, benchmarks)
    CALLER_SPEAKS = "caller-speaks"
    DECIDE_ONLY = "hotline-decide-only"  # the IVR without the queue, for benchmarks


class Exten(StrEnum):
    """Extensions of hotline-route and cti-* that Python sends channels to."""

    REQUEUE = "requeue"  # back to the front of the queue
    QUEUE = "queue"
    HOLD_CALLER = "caller"
    HOLD_AGENT = "agent"
    START = "s"


class Var(StrEnum):
    # set by the AGI (agi/session.py), acted on by hotline-route
    ACTION = "HOTLINE_ACTION"
    QUEUE = "HOTLINE_QUEUE"
    PRIORITY = "HOTLINE_PRIORITY"
    TARGET = "HOTLINE_TARGET"
    IVR_PATH = "HOTLINE_IVR_PATH"
    IVR_VERSION = "HOTLINE_IVR_VERSION"
    # globals of the rendered dialplan; HOTLINE_AGI_URL may be set per call (tests, benchmarks)
    AGI_URL = "HOTLINE_AGI_URL"
    DEFAULT_QUEUE = "HOTLINE_DEFAULT_QUEUE"
    IVR_BUDGET = "HOTLINE_IVR_BUDGET"
    # set by call control (telephony/) over AMI
    HELD_CALLER = "CTI_HELD_CALLER"
    DIAL = "CTI_DIAL"
    RING_SECONDS = "CTI_RING_SECONDS"
    CALL_ID = "CTI_CALL_ID"
    COMPLETED = "CTI_COMPLETED"
    RETURN_TO = "CTI_RETURN_TO"
    TRANSFER_QUEUE = "CTI_QUEUE"
    CONF_USER = "CTI_CONF_USER"
    CALLBACK_ID = "CTI_CALLBACK_ID"
    # a kept place in line, set by the AGI's Originate
    CALLBACK_NUMBER = "CB_NUMBER"
    CALLBACK_QUEUE = "CB_QUEUE"
    CALLBACK_PRIORITY = "CB_PRIORITY"
    CALLBACK_CALL = "CB_CALL"
    # the barred list, written into AstDB through Context.BARRED_LIST
    BARRED_NUMBERS = "BARRED_NUMBERS"
    # simulated callers
    SIM_HOLD = "SIM_HOLD"
    SIM_AUDIO = "SIM_AUDIO"


class AstDbFamily(StrEnum):
    BARRED = "hotline-barred"  # one key per barred number; the dialplan refuses them even without our AGI


class ConfUser(StrEnum):
    """ConfBridge user profiles (asterisk_conf/confbridge.conf), chosen through CTI_CONF_USER."""

    CALLER = "hotline-caller"
    AGENT = "hotline-agent"
    PARTY = "hotline-party"


class UserEvent(StrEnum):
    CALL_START = "HotlineCallStart"
    ROUTE = "HotlineRoute"
    CONSULT_ENDED = "HotlineConsultEnded"
    TRANSFER_FAILED = "HotlineTransferFailed"
    CALLBACK_WAITING = "HotlineCallbackWaiting"
    CALLBACK_ENDED = "HotlineCallbackEnded"
    DECIDED = "HotlineDecided"
