"""Agent call control (CTI) on Asterisk's own machinery, in the parts wazo-agentd and wazo-calld
keep apart: agent state (telephony/agent_state.py), call control (telephony/call_control.py), the
AMI event follower (telephony/event_follower.py) with transfer following as a pure function
(domain/transfer_following.py), and the wallboard. They share the queue mirror, which is built
outside and changed only through its own methods. The dialplan contexts they drive (cti-*) are in
asterisk_conf/extensions.conf, their names in domain/dialplan_names.py."""

from __future__ import annotations

from dataclasses import dataclass

from domain.agents import QueueBoard
from telephony.agent_state import AgentState
from telephony.ami import AmiClient
from telephony.call_control import CallControl
from telephony.cti_config import CtiConfig, CtiHooks, Publish
from telephony.desk_pushes import DeskPushes
from telephony.event_follower import EventFollower
from telephony.mirror_changes import MirrorChanges
from telephony.transfer_log import TransferLog
from telephony.wallboard import Wallboard


@dataclass(frozen=True)
class Cti:
    ami: AmiClient
    board: QueueBoard
    hooks: CtiHooks
    agents: AgentState
    calls: CallControl
    follower: EventFollower
    wallboard: Wallboard
    transfers: TransferLog


def build_cti(ami: AmiClient, board: QueueBoard, config: CtiConfig, hooks: CtiHooks, publish: Publish) -> Cti:
    pushes, changes = DeskPushes(board, publish), MirrorChanges()
    transfers = TransferLog(pushes, hooks)
    agents = AgentState(ami, config, board, changes)
    calls = CallControl(ami, config, hooks, board, agents, transfers, pushes)
    follower = EventFollower(ami, board, hooks, publish, pushes, transfers, calls, changes)
    wallboard = Wallboard(ami, board, hooks, publish, config.wallboard_interval_seconds)
    return Cti(ami, board, hooks, agents, calls, follower, wallboard, transfers)
