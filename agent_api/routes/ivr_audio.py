"""Recorded IVR prompts: admins upload a WAV under a prompt name; it is checked and converted for Asterisk."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from agent_api.context import ApiContext, context, require
from agent_api.errors import responses
from domain.errors import Unavailable
from storage.users import User
from telephony.prompt_audio import MAX_UPLOAD_BYTES, PromptAudioStore, StoredAudio, check_name, convert_upload

router = APIRouter(prefix="/api/v1/admin/ivr/audio", tags=["ivr"])
LARGE_BODIES = {"/api/v1/admin/ivr/audio/": MAX_UPLOAD_BYTES}  # path prefix → its body limit, above the default


class AudioOut(BaseModel):
    name: str
    sha256: str
    seconds: float


def _out(stored: StoredAudio) -> AudioOut:
    return AudioOut(name=stored.name, sha256=stored.sha256, seconds=stored.seconds)


def store(ctx: ApiContext = Depends(context)) -> PromptAudioStore:
    if ctx.prompt_audio is None:
        raise Unavailable(
            "prompt recordings are not configured in this API process (no store)", code="recordings_unavailable"
        )
    return ctx.prompt_audio


def _convert_and_save(audio: PromptAudioStore, name: str, data: bytes) -> StoredAudio:
    return audio.save(name, convert_upload(data))


@router.put(
    "/{name}",
    status_code=201,
    responses=responses(413),
    summary="Upload a WAV recording (raw request body) for a prompt; it replaces any recording of that name",
    openapi_extra={
        "requestBody": {"required": True, "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}}}
    },
)
async def put_audio(
    name: str, request: Request, _: User = Depends(require("admin")), audio: PromptAudioStore = Depends(store)
) -> AudioOut:
    check_name(name)
    data = await request.body()  # read once signed in as an admin; bounded by LARGE_BODIES
    return _out(await asyncio.to_thread(_convert_and_save, audio, name, data))


@router.get("", summary="The uploaded prompt recordings, by name")
def get_audio(_: User = Depends(require("admin")), audio: PromptAudioStore = Depends(store)) -> list[AudioOut]:
    return [_out(stored) for name in audio.names() if (stored := audio.get(name)) is not None]
