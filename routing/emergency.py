"""Emergency phrases in what a caller is saying, spotted while they speak: the agent hands such calls to 110, 119
or 120 at once. Runs on every partial recognition result, so it is one regex pass over the text."""

from __future__ import annotations

import re
from collections.abc import Iterable

from routing.text import join_cjk, normalise

DEFAULT_EMERGENCY_PHRASES = (
    "着火",
    "起火",
    "失火",
    "火灾",
    "爆炸",
    "煤气泄漏",
    "燃气泄漏",
    "救命",
    "打人",
    "打架",
    "杀人",
    "砍人",
    "持刀",
    "拿刀",
    "抢劫",
    "绑架",
    "有人跳楼",
    "要跳楼",
    "想跳楼",
    "自杀",
    "轻生",
    "被困",
    "触电",
    "晕倒",
    "昏迷",
    "溺水",
    "有人落水",
    "车祸",
    "撞人",
)
# Words containing a phrase that are no emergency, common on the hotline (人社局, 人工服务, 救命钱, 一起火锅, a fire
# hazard). Each must start at or before the phrase inside it, to be matched instead of it.
DEFAULT_NOT_EMERGENCIES = (
    "打人社",
    "打人事",
    "打人力",
    "打人工",
    "打人民医院",
    "救命钱",
    "起火锅",
    "起火车",
    "火灾隐患",
    "容易着火",
    "容易起火",
    "被困扰",
)


def _key(text: str) -> str:
    return normalise(join_cjk(text))


def _keys(kind: str, words: Iterable[str]) -> dict[str, str]:
    keys: dict[str, str] = {}
    for i, word in enumerate(words):
        if not isinstance(word, str) or not _key(word):
            raise ValueError(f"{kind} [{i}]: expected a non-empty string, got {word!r}")
        keys.setdefault(_key(word), word)
    return keys


class EmergencySpotter:
    def __init__(self, phrases: Iterable[str], ignore: Iterable[str] = ()):
        """`ignore`: words that contain a phrase but are no emergency (see DEFAULT_NOT_EMERGENCIES)."""
        self._phrase_of: dict[str, str | None] = dict(_keys("emergency phrase", phrases))  # None: an ignored word
        if not self._phrase_of:
            raise ValueError("no emergency phrases given")
        for key, word in _keys("ignored word", ignore).items():
            if key in self._phrase_of:
                raise ValueError(f"ignored word '{word}' is also an emergency phrase")
            if not any(phrase in key for phrase in self._phrase_of):
                raise ValueError(f"ignored word '{word}' contains no emergency phrase, so ignoring it does nothing")
            self._phrase_of[key] = None
        # Longest first: at each position the alternation takes the longest word that matches there.
        self._pattern = re.compile("|".join(map(re.escape, sorted(self._phrase_of, key=len, reverse=True))))

    def spot(self, text: str) -> tuple[str, ...]:
        """The phrases said (as configured), each once, in the order first said."""
        found = (self._phrase_of[m.group()] for m in self._pattern.finditer(_key(text)))
        return tuple(dict.fromkeys(phrase for phrase in found if phrase is not None))
