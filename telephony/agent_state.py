"""Agent state on app_queue: logging in at a softphone with skills (queue membership with
penalties), pausing with a reason, logging out. Asterisk's events, followed into the queue
mirror, are the truth: each request returns once they show its effect."""

from __future__ import annotations

import time
from collections.abc import Mapping

from domain.agents import Agent, QueueBoard
from telephony.ami import AmiClient
from telephony.cti_config import CtiConfig
from telephony.cti_errors import InvalidRequest, UnknownTarget, WrongState
from telephony.mirror_changes import MirrorChanges

PAUSE_REASONS = ("break", "meal", "training", "meeting", "after_call_work", "other")


class AgentState:
    def __init__(self, ami: AmiClient, config: CtiConfig, board: QueueBoard, changes: MirrorChanges):
        self.ami = ami
        self.config = config
        self.board = board
        self._changes = changes

    def view(self, user: str) -> dict:
        agent = self.board.agent_for_user(user)
        if agent is None:
            return {"logged_in": False, "user": user}
        return {"logged_in": True, **agent.view(time.time(), self.config.wrapup_seconds)}

    def all_views(self) -> list[dict]:
        now = time.time()
        agents = sorted(self.board.agents.values(), key=lambda a: a.extension)
        return [a.view(now, self.config.wrapup_seconds) for a in agents]

    def logged_in(self, user: str) -> Agent:
        agent = self.board.agent_for_user(user)
        if agent is None:
            raise WrongState("you are not logged in at a softphone")
        return agent

    async def login(self, user: str, extension: str, skills: Mapping[str, int] | None) -> dict:
        skills = self.config.default_skills if skills is None else skills
        if extension not in self.config.agent_extensions:
            raise UnknownTarget(f"extension {extension} is not an agent softphone")
        unknown = sorted(set(skills) - set(self.config.skill_queues))
        if unknown:
            raise InvalidRequest(f"unknown skills {unknown}; known: {sorted(self.config.skill_queues)}")
        if not skills:
            raise InvalidRequest("name at least one skill")
        if any(not 0 <= p <= 100 for p in skills.values()):
            raise InvalidRequest("a skill's penalty must be between 0 and 100")
        holder = self.board.agents.get(extension)
        if holder is not None and holder.user != user:
            raise WrongState(f"extension {extension} is in use by {holder.user}")
        current = self.board.agent_for_user(user)
        if current is not None and current.extension != extension:
            raise WrongState(f"you are logged in at extension {current.extension}: log out there first")
        wanted = {self.config.skill_queues[s]: p for s, p in skills.items()}
        interface = f"PJSIP/{extension}"
        present = dict(holder.queues) if holder else {}
        for queue in present.keys() - wanted.keys():
            await self.ami.queue_remove(queue, interface)
        for queue, penalty in wanted.items():
            if queue in present and present[queue] != penalty:
                await self.ami.queue_remove(queue, interface)
            if queue not in present or present[queue] != penalty:
                await self.ami.queue_add(queue, interface, user, penalty)
        await self._changes.settled(lambda: (a := self.board.agents.get(extension)) is not None and a.queues == wanted)
        return self.view(user)

    async def pause(self, user: str, reason: str) -> dict:
        if reason not in PAUSE_REASONS:
            raise InvalidRequest(f"unknown pause reason {reason!r}; use one of {', '.join(PAUSE_REASONS)}")
        agent = self.logged_in(user)
        await self.ami.queue_pause(f"PJSIP/{agent.extension}", True, reason)
        await self._changes.settled(lambda: agent.paused and agent.pause_reason == reason)
        return self.view(user)

    async def unpause(self, user: str) -> dict:
        agent = self.logged_in(user)
        await self.ami.queue_pause(f"PJSIP/{agent.extension}", False)
        await self._changes.settled(lambda: not agent.paused)
        return self.view(user)

    async def logout(self, user: str) -> dict:
        agent = self.logged_in(user)
        for queue in list(agent.queues):
            await self.ami.queue_remove(queue, f"PJSIP/{agent.extension}")
        await self._changes.settled(lambda: agent.extension not in self.board.agents)
        return self.view(user)
