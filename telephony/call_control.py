"""Call control on the agent's own call, with Asterisk's machinery: Redirect and Bridge for hold,
BlindTransfer and the cti-transfer context for blind transfers, cti-consult for attended ones,
ConfBridge rooms and Originate for three-way calls and 110 handoffs, and the agent's phone rung
first for callbacks. Every operation checks that the call is the agent's own; the progress that
follows comes from Asterisk's events (telephony/event_follower.py)."""

from __future__ import annotations

import asyncio
import itertools
import time

from domain.agents import CallMode, LiveCall, QueueBoard
from domain.dialplan_names import ConfUser, Context, Exten, Var
from domain.transfer_following import PendingOriginate, advance
from domain.transfers import Transfer, TransferKind, TransferState
from telephony.agent_state import AgentState
from telephony.ami import AmiClient, AmiError
from telephony.cti_config import CtiConfig, CtiHooks, Target
from telephony.cti_errors import NotYourCall, UnknownCall, UnknownTarget, WrongState
from telephony.desk_pushes import DeskPushes
from telephony.transfer_log import TransferLog


def conference_room(call_id: str) -> str:
    """The ConfBridge room of a call: the digits of the caller's uniqueid (dialplan-safe)."""
    return "".join(ch for ch in call_id if ch.isdigit())


class CallControl:
    def __init__(
        self,
        ami: AmiClient,
        config: CtiConfig,
        hooks: CtiHooks,
        board: QueueBoard,
        agents: AgentState,
        transfers: TransferLog,
        pushes: DeskPushes,
    ):
        self.ami = ami
        self.config = config
        self.hooks = hooks
        self.board = board
        self._agents = agents
        self._transfers = transfers
        self._pushes = pushes
        self._ids = itertools.count(1)

    def _own_call(self, user: str, call_id: str, *modes: CallMode) -> LiveCall:
        call = self.board.calls.get(call_id)
        if call is None:
            raise UnknownCall(f"no live call {call_id}")
        agent = self.board.agent_for_user(user)
        if agent is None or call.agent_extension != agent.extension:
            raise NotYourCall(f"call {call_id} is not connected to you")
        if modes and call.mode not in modes:
            raise WrongState(f"call {call_id} is {call.mode}; this needs it {' or '.join(map(str, modes))}")
        return call

    def _set_mode(self, call: LiveCall, mode: CallMode, shown_as: str) -> None:
        self.board.set_mode(call.call_id, mode)
        self._pushes.call(call, shown_as)

    async def _phone(self, target: Target) -> tuple[str, str]:
        """The target's number (the dialplan extension a transfer goes to) and dial string."""
        if target.kind == "agent" and target.id in self.config.agent_extensions:
            return target.id, f"PJSIP/{target.id}"
        if target.kind == "emergency" and target.id in self.config.emergency_numbers:
            return target.id, f"PJSIP/emergency-{target.id}"
        if target.kind == "department":
            phone = await asyncio.to_thread(self.hooks.department_phone, target.id)
            if phone:
                return phone, f"PJSIP/{phone}"
            raise UnknownTarget(f"department {target.id} is unknown or has no phone in the directory")
        raise UnknownTarget(f"unknown {target.kind} {target.id!r}")

    def _start(
        self, call: LiveCall, kind: TransferKind, target: Target, user: str, ticket: str | None = None
    ) -> Transfer:
        return self._transfers.start(Transfer(call.call_id, kind, str(target), user, time.time(), ticket_number=ticket))

    def _advance(self, call_id: str, state: TransferState, reason: str = "") -> Transfer | None:
        followed = advance(self._transfers.transfers.get(call_id), state, time.time(), reason)
        self._transfers.apply(call_id, followed)
        return followed.transfer

    async def place_callback(self, user: str, number: str, callback_id: int) -> dict:
        """Calls a caller back: the agent's phone rings first, and once answered Asterisk dials the
        caller through the carrier (cti-callback). The agent records the outcome on the task."""
        agent = self._agents.logged_in(user)
        if agent.call_id is not None:
            raise WrongState("finish your current call before calling back")
        await self.ami.originate(
            f"PJSIP/{agent.extension}",
            Context.CALLBACK,
            number,
            self.config.ring_seconds,
            f'"回拨 {number}" <{number}>',
            {Var.CALLBACK_ID: str(callback_id), Var.RING_SECONDS: str(self.config.ring_seconds)},
            f"hotline-cti-{next(self._ids)}",
        )
        return {"state": "ringing_agent", "extension": agent.extension}

    async def hangup(self, user: str, call_id: str) -> None:
        call = self._own_call(user, call_id)
        await self.ami.hangup(call.caller_channel)

    async def hold(self, user: str, call_id: str) -> dict:
        call = self._own_call(user, call_id, CallMode.TALKING)
        assert call.agent_channel is not None
        await self.ami.setvar(call.agent_channel, Var.HELD_CALLER, call.caller_channel)
        await self.ami.redirect(
            call.caller_channel,
            Context.HOLD,
            Exten.HOLD_CALLER,
            extra=(call.agent_channel, Context.HOLD, Exten.HOLD_AGENT),
        )
        self._set_mode(call, CallMode.HELD, "held")
        return {"call_id": call_id, "state": "held"}

    async def unhold(self, user: str, call_id: str) -> dict:
        call = self._own_call(user, call_id, CallMode.HELD)
        assert call.agent_channel is not None
        await self.ami.setvar(call.agent_channel, Var.HELD_CALLER, "")
        await self.ami.bridge(call.agent_channel, call.caller_channel)
        self._set_mode(call, CallMode.TALKING, "talking")
        return {"call_id": call_id, "state": "talking"}

    async def blind_transfer(
        self,
        user: str,
        call_id: str,
        target: Target,
        kind: TransferKind = TransferKind.BLIND,
        ticket: str | None = None,
    ) -> dict:
        call = self._own_call(user, call_id, CallMode.TALKING)
        assert call.agent_channel is not None and call.agent_extension is not None
        if target.kind == "queue":
            if target.id not in self.config.queues:
                raise UnknownTarget(f"unknown queue {target.id!r}")
            exten, variables = str(Exten.QUEUE), {Var.TRANSFER_QUEUE: target.id}
        else:
            exten, dial = await self._phone(target)
            variables = {Var.DIAL: dial, Var.RETURN_TO: call.agent_extension}
        variables |= {Var.RING_SECONDS: str(self.config.ring_seconds), Var.CALL_ID: call_id}
        transfer = self._start(call, kind, target, user, ticket)
        for name, value in variables.items():
            await self.ami.setvar(call.caller_channel, name, value)
        await self.ami.blind_transfer(call.agent_channel, Context.TRANSFER, exten)
        if target.kind == "queue":
            self._advance(call_id, TransferState.COMPLETED)
        return self._transfers.transfers.get(call_id, transfer).view()

    async def consult(self, user: str, call_id: str, target: Target) -> dict:
        call = self._own_call(user, call_id, CallMode.TALKING)
        assert call.agent_channel is not None
        _, dial = await self._phone(target)
        transfer = self._start(call, TransferKind.ATTENDED, target, user)
        for name, value in {
            Var.HELD_CALLER: call.caller_channel,
            Var.DIAL: dial,
            Var.COMPLETED: "",
            Var.RING_SECONDS: str(self.config.ring_seconds),
            Var.CALL_ID: call_id,
        }.items():
            await self.ami.setvar(call.agent_channel, name, value)
        await self.ami.redirect(
            call.caller_channel,
            Context.HOLD,
            Exten.HOLD_CALLER,
            extra=(call.agent_channel, Context.CONSULT, Exten.START),
        )
        self._set_mode(call, CallMode.CONSULTING, "consulting")
        return transfer.view()

    async def complete_consult(self, user: str, call_id: str) -> dict:
        call = self._own_call(user, call_id, CallMode.CONSULTING)
        transfer = self._transfers.transfers.get(call_id)
        if transfer is None or transfer.state is not TransferState.ANSWERED or call.consult_channel is None:
            raise WrongState("the target has not answered yet: cancel, or wait for it to answer")
        assert call.agent_channel is not None
        await self.ami.setvar(call.agent_channel, Var.COMPLETED, "1")
        await self.ami.setvar(call.agent_channel, Var.HELD_CALLER, "")
        await self.ami.bridge(call.caller_channel, call.consult_channel)
        self.board.handed_over(call_id)
        done = self._advance(call_id, TransferState.COMPLETED)
        return (done or transfer).view()

    async def cancel_consult(self, user: str, call_id: str) -> dict:
        call = self._own_call(user, call_id, CallMode.CONSULTING)
        transfer = self._advance(call_id, TransferState.CANCELLED, "cancelled by the agent")
        if call.consult_channel is not None:
            await self.ami.hangup(call.consult_channel)
        return (transfer or self._transfers.transfers[call_id]).view()

    async def conference(self, user: str, call_id: str, target: Target) -> dict:
        """Caller, agent and target in one ConfBridge room; the agent may leave later."""
        call = self._own_call(user, call_id, CallMode.TALKING)
        _, dial = await self._phone(target)
        transfer = self._start(call, TransferKind.CONFERENCE, target, user)
        await self._into_room(call, agent_waits=False)
        await self._ring_into_room(call, dial)
        return transfer.view()

    async def leave_conference(self, user: str, call_id: str) -> dict:
        call = self._own_call(user, call_id, CallMode.CONFERENCE)
        assert call.agent_channel is not None
        await self.ami.hangup(call.agent_channel)
        return {"call_id": call_id, "state": "left"}

    async def emergency(self, user: str, call_id: str, number: str, direct: bool, ticket: str | None) -> dict:
        """One key: 110/119/120 rings while the caller hears music; answered, the agent joins a
        three-way call and drops after a short overlap. Unanswered or busy: the caller comes back
        to the agent, who gets an error event. `direct` transfers blind instead."""
        target = Target("emergency", number)
        if number not in self.config.emergency_numbers:
            raise UnknownTarget(f"no emergency target {number}; configured: {sorted(self.config.emergency_numbers)}")
        # An emergency handoff never waits on the database: a ticket that cannot be checked now is
        # checked when the handoff is written onto it.
        if ticket is not None and await asyncio.to_thread(self.hooks.ticket_exists, ticket) is False:
            raise UnknownTarget(f"no ticket {ticket} to record the handoff on")
        if direct:
            return await self.blind_transfer(user, call_id, target, TransferKind.DIRECT_HANDOFF, ticket)
        call = self._own_call(user, call_id, CallMode.TALKING)
        transfer = self._start(call, TransferKind.HANDOFF, target, user, ticket)
        await self._into_room(call, agent_waits=True)
        await self._ring_into_room(call, (await self._phone(target))[1])
        self.board.set_mode(call_id, CallMode.HANDOFF)
        return transfer.view()

    async def _into_room(self, call: LiveCall, agent_waits: bool) -> None:
        """Moves the caller into the call's ConfBridge room; the agent joins too, or waits on
        hold (the caller alone in the room hears music)."""
        assert call.agent_channel is not None
        room = conference_room(call.call_id)
        await self.ami.setvar(call.caller_channel, Var.CONF_USER, ConfUser.CALLER)
        if agent_waits:
            await self.ami.setvar(call.agent_channel, Var.HELD_CALLER, call.caller_channel)
            agent_goes = (call.agent_channel, str(Context.HOLD), str(Exten.HOLD_AGENT))
        else:
            await self.ami.setvar(call.agent_channel, Var.CONF_USER, ConfUser.AGENT)
            agent_goes = (call.agent_channel, str(Context.CONFERENCE), room)
        self.board.into_room(call.call_id, room)
        await self.ami.redirect(call.caller_channel, Context.CONFERENCE, room, extra=agent_goes)
        self._pushes.call(call, "conference")

    async def _ring_into_room(self, call: LiveCall, dial: str) -> None:
        assert call.room is not None
        action_id = f"hotline-cti-{next(self._ids)}"
        self._transfers.progress.originates[action_id] = PendingOriginate(call.call_id, call.room)
        try:
            await self.ami.originate(
                dial,
                Context.CONFERENCE,
                call.room,
                self.config.ring_seconds,
                f'"12345" <{call.caller}>',
                {Var.CONF_USER: ConfUser.PARTY},
                action_id,
            )
        except AmiError:
            self._transfers.progress.originates.pop(action_id, None)
            raise
        self._advance(call.call_id, TransferState.RINGING)

    async def join_agent_to_room(self, call_id: str) -> None:
        """The agent, waiting on hold while 110 rang, joins the caller's room."""
        call = self.board.calls.get(call_id)
        if call is None or call.agent_channel is None or call.room is None:
            return
        await self.ami.setvar(call.agent_channel, Var.HELD_CALLER, "")
        await self.ami.setvar(call.agent_channel, Var.CONF_USER, ConfUser.AGENT)
        await self.ami.redirect(call.agent_channel, Context.CONFERENCE, call.room)
        self.board.set_mode(call_id, CallMode.CONFERENCE)

    async def agent_drops_after_overlap(self, call_id: str) -> None:
        await asyncio.sleep(self.config.handoff_overlap_seconds)
        call = self.board.calls.get(call_id)
        if call is not None and call.agent_channel is not None:
            await self.ami.hangup(call.agent_channel)
        self._advance(call_id, TransferState.COMPLETED)

    async def requeue_alone_in_room(self, call_id: str) -> None:
        """A caller left alone in a room (agent and third party gone) goes back to the queue."""
        call = self.board.calls.get(call_id)
        if call is None:
            return
        self.board.out_of_room(call_id)
        await self.ami.redirect(call.caller_channel, Context.ROUTE, Exten.REQUEUE)
