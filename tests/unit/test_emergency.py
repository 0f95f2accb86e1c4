from __future__ import annotations

import pytest

from routing.emergency import DEFAULT_EMERGENCY_PHRASES, DEFAULT_NOT_EMERGENCIES, EmergencySpotter


@pytest.fixture(scope="module")
def spotter() -> EmergencySpotter:
    return EmergencySpotter(DEFAULT_EMERGENCY_PHRASES, ignore=DEFAULT_NOT_EMERGENCIES)


@pytest.mark.parametrize(
    ("text", "phrases"),
    [
        ("喂你好,我们小区三号楼着火了,烟很大,快派人来", ("着火",)),
        ("喂 你好 我们 小区 三 号 楼 着 火 了 烟 很 大", ("着火",)),  # Vosk-style: a phrase split into words
        ("厨房 里 煤气 泄漏 了 有 人 晕倒 了", ("煤气泄漏", "晕倒")),
        ("楼下有人在打人,还拿刀,救命啊,有人在打人", ("打人", "拿刀", "救命")),  # each once, in order first said
        ("对面 楼顶 有人 要 跳楼", ("要跳楼",)),
        ("有人跳楼了", ("有人跳楼",)),  # the longest phrase, not a shorter one inside it
        ("电梯 坏 了 我 被困 在 里面", ("被困",)),
        ("路口 发生 车祸 有人 受伤", ("车祸",)),
        ("ＫＴＶ里有人打架", ("打架",)),  # full-width letters
    ],
)
def test_spots_phrases(spotter: EmergencySpotter, text: str, phrases: tuple[str, ...]) -> None:
    assert spotter.spot(text) == phrases


@pytest.mark.parametrize(
    "text",
    [
        "",
        "楼下 烧烤 店 油烟 很 大",
        "我打人社局电话一直没人接",  # 人社局, not 打人
        "打 人工 服务 一直 转 不 过去",
        "老板拖欠我们的工资,那是救命钱",
        "楼道里电动车飞线充电,容易着火,有火灾隐患",  # a hazard to report, no fire yet
        "楼上装修的噪音让我们被困扰很久了",
        "和朋友一起火锅店吃饭",
    ],
)
def test_no_emergency(spotter: EmergencySpotter, text: str) -> None:
    assert spotter.spot(text) == ()


def test_partial_results_as_they_grow(spotter: EmergencySpotter) -> None:
    partials = ["喂", "喂 我们 这里", "喂 我们 这里 煤气", "喂 我们 这里 煤气 泄漏", "喂 我们 这里 煤气 泄漏 了 快"]
    assert [spotter.spot(p) for p in partials] == [(), (), (), ("煤气泄漏",), ("煤气泄漏",)]


def test_configured_phrases_are_normalised_and_returned_as_given() -> None:
    spotter = EmergencySpotter(["井盖 被偷", "Gas Leak", "井盖被偷"])
    assert spotter.spot("路口的井盖被偷了,还有 gas leak") == ("井盖 被偷", "Gas Leak")


def test_a_phrase_after_an_ignored_word_still_counts(spotter: EmergencySpotter) -> None:
    assert spotter.spot("打人社局电话没用,楼下有人在打人") == ("打人",)


@pytest.mark.parametrize(
    ("phrases", "ignore", "message"),
    [
        (["着火", ""], (), r"emergency phrase \[1\]: expected a non-empty string, got ''"),
        (["着火", "  "], (), r"emergency phrase \[1\]"),
        (["着火", None], (), r"emergency phrase \[1\]: expected a non-empty string, got None"),
        ([], (), "no emergency phrases"),
        (["着火"], [" "], r"ignored word \[0\]"),
        (["着火"], ["着火"], "ignored word '着火' is also an emergency phrase"),
        (["着火"], ["火锅"], "ignored word '火锅' contains no emergency phrase"),
    ],
)
def test_invalid_configuration(phrases: list, ignore: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EmergencySpotter(phrases, ignore=ignore)
