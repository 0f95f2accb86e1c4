"""Chinese word segmentation shared by triage and duplicate detection."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable

import jieba

jieba.setLogLevel(logging.WARNING)  # its "Building prefix dict..." lines would pollute CLI output

# Our own tokenizer, so department words never change segmentation for other users of jieba's global one.
_tokenizer = jieba.Tokenizer()
_added: set[str] = set()

# Hotline terms jieba's default dictionary splits or merges wrongly; department keywords are added on top.
DOMAIN_WORDS = (
    "噪音",
    "占道经营",
    "医保",
    "医保卡",
    "公积金",
    "社保",
    "社保卡",
    "停水",
    "停电",
    "停气",
    "煤气泄漏",
    "燃气泄漏",
    "违建",
    "违停",
    "欠薪",
    "低保",
    "油烟",
    "偷排",
    "网约车",
    "黑车",
    "渣土车",
    "井盖",
    "电动车",
    "电瓶车",
    "广场舞",
    "物业费",
    "维修基金",
    "夜间施工",
    "异地就医",
    "不动产登记",
    "消防通道",
    "飞线充电",
    "垃圾桶",
    "业委会",
    "加装电梯",
)

STOP_WORDS = frozenset(
    "的 了 着 过 是 我 我们 我家 你 你们 您 他 她 它 他们 她们 这 那 这个 那个 这些 那些 这里 那里 这边 那边 就 都 也 还 又 再 在 有 "
    "和 跟 与 及 或 呢 吗 吧 啊 呀 嘛 哦 嗯 喂 哎 哈 您好 你好 请 请问 一下 一个 一点 什么 怎么 怎么办 怎么样 为什么 为啥 没 没有 不 "
    "要 想 能 能不能 可以 可不可以 会 说 给 让 把 被 对 到 从 去 来 上 下 里 中 个 些 很 太 特别 非常 已经 现在 今天 昨天 "
    "一直 好 多 还是 就是 但是 可是 因为 所以 然后 如果 这样 那样 麻烦 谢谢 问 问问 一 二 三 几 啥 谁 哪 哪里 哪个 "
    "知道 觉得 反映 情况 问题 事情 东西 人 时候 之前 以后 能否 是不是 有没有 一下子 根本 真的 实在 简直 "
    "投诉 举报 咨询 建议 求助 12345 热线 电话 打电话 市民 师傅 同志 工作人员 政府 部门 管 归 该 处理 解决".split()
)


def add_words(words: Iterable[str]) -> None:
    """Keeps `words` whole when segmenting (e.g. department keywords); cheap after the first call."""
    for word in words:
        word = normalise(word)
        if word and word not in _added:
            _tokenizer.add_word(word)
            _added.add(word)


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, trimmed: 'ＫＴＶ，' and 'ktv,' compare equal."""
    return unicodedata.normalize("NFKC", text).lower().strip()


# CJK ideographs, CJK punctuation and full-width forms.
_CJK = r"[\u3001-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uffef]"
_SPACE_BY_CJK = re.compile(rf"(?<={_CJK})\s+|\s+(?={_CJK})")


def join_cjk(text: str) -> str:
    """Without the spaces a speech recogniser puts between Chinese words: '楼下 烧烤 店 3 号楼' -> '楼下烧烤店3号楼';
    spaces between Latin words stay."""
    return _SPACE_BY_CJK.sub("", text)


def tokens(text: str) -> list[str]:
    """Content words of `text`, in order: no stop words, punctuation or spaces."""
    return [w for w in _tokenizer.lcut(normalise(text)) if w.strip() and w not in STOP_WORDS and _is_wordlike(w)]


def search_tokens(text: str) -> list[str]:
    """Like `tokens`, plus the dictionary words inside long ones ('拖欠工资' also gives '拖欠', '工资'), so that a
    caller's '工资' meets a unit's '拖欠工资'."""
    return [
        w for w in _tokenizer.lcut_for_search(normalise(text)) if w.strip() and w not in STOP_WORDS and _is_wordlike(w)
    ]


def _is_wordlike(word: str) -> bool:
    return any(ch.isalnum() for ch in word)


add_words(DOMAIN_WORDS)
