"""Benchmark: knowledge base search at the size of a real centre (Lishui: 27,000+ entries).

    .venv/bin/python bench/kb_search.py [--entries 27000] [--queries 2000] [--baseline-queries 200] [--seed 12345]

Generates entries deterministically from matters × audiences × districts × question templates,
builds a KnowledgeIndex (build time, resident memory), then runs queries of 1–3 keywords as an
agent types them and prints p50/p99/max per query and hits per query. The naive baseline,
rapidfuzz's process.extract with fuzz.ratio over every question, runs on the first
--baseline-queries queries, and both are compared on that subset.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import jieba
from rapidfuzz import fuzz, process

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from knowledge import KnowledgeEntry, KnowledgeIndex  # noqa: E402

TODAY = date(2025, 6, 1)
DISTRICTS = ["市本级", "莲都区", "龙泉市", "青田县", "云和县", "庆元县", "缙云县", "遂昌县", "松阳县", "景宁县"]
AUDIENCES = ["", "个人", "企业", "外地户籍人员", "退休人员", "老年人", "残疾人", "学生", "个体工商户", "新就业人员"]
# matter, department, keywords
MATTERS = [
    ("住房公积金提取", "公积金中心", "公积金、提取"),
    ("住房公积金贷款", "公积金中心", "公积金、贷款"),
    ("公积金缴存证明", "公积金中心", "公积金、缴存"),
    ("居住证办理", "公安局", "居住证、暂住证"),
    ("居住证签注", "公安局", "居住证、签注"),
    ("新生儿落户", "公安局", "新生儿、落户、户口"),
    ("户口迁移", "公安局", "户口、迁移、迁入"),
    ("身份证补办", "公安局", "身份证、补办、挂失"),
    ("护照办理", "出入境管理局", "护照、出入境"),
    ("港澳通行证续签", "出入境管理局", "港澳通行证、签注"),
    ("医保异地就医备案", "医疗保障局", "医保、异地就医、备案"),
    ("医保报销", "医疗保障局", "医保、报销"),
    ("医保卡挂失", "医疗保障局", "医保卡、社保卡、挂失"),
    ("城乡居民医保缴费", "医疗保障局", "医保、缴费"),
    ("社保缴费基数调整", "人力社保局", "社保、缴费基数"),
    ("养老保险转移", "人力社保局", "养老保险、转移"),
    ("失业金申领", "人力社保局", "失业金、失业保险"),
    ("退休手续办理", "人力社保局", "退休、养老金"),
    ("工伤认定", "人力社保局", "工伤、认定"),
    ("劳动仲裁申请", "人力社保局", "劳动仲裁、欠薪"),
    ("拖欠工资投诉", "人力社保局", "欠薪、工资、投诉"),
    ("不动产登记", "自然资源局", "不动产、房产证"),
    ("不动产抵押登记", "自然资源局", "不动产、抵押"),
    ("二手房过户", "自然资源局", "二手房、过户"),
    ("电动车上牌", "公安交警", "电动车、上牌"),
    ("驾驶证换证", "公安交警", "驾驶证、换证"),
    ("交通违章处理", "公安交警", "违章、罚款"),
    ("噪音扰民投诉", "生态环境局", "噪音、扰民、投诉"),
    ("占道经营投诉", "综合行政执法局", "占道经营、流动摊贩"),
    ("违章建筑举报", "综合行政执法局", "违建、违章建筑"),
    ("燃气报修", "燃气公司", "燃气、报修、漏气"),
    ("停水通知查询", "自来水公司", "停水、自来水"),
    ("停电报修", "供电公司", "停电、报修"),
    ("路灯损坏报修", "住建局", "路灯、报修"),
    ("营业执照办理", "市场监管局", "营业执照、开店"),
    ("食品经营许可证", "市场监管局", "食品经营、许可证"),
    ("消费维权投诉", "市场监管局", "消费、维权、退款"),
    ("个税汇算清缴", "税务局", "个税、汇算"),
    ("发票开具", "税务局", "发票、开票"),
    ("契税缴纳", "税务局", "契税、购房"),
    ("义务教育入学报名", "教育局", "入学、报名、学区"),
    ("幼儿园报名", "教育局", "幼儿园、报名"),
    ("学生资助申请", "教育局", "助学金、资助"),
    ("结婚登记", "民政局", "结婚、婚姻登记"),
    ("离婚登记", "民政局", "离婚、婚姻登记"),
    ("低保申请", "民政局", "低保、救助"),
    ("高龄津贴申领", "民政局", "高龄津贴、老年人"),
    ("残疾证办理", "残联", "残疾证、残疾人"),
    ("老年优待证办理", "民政局", "老年优待证、老年人"),
    ("犬只登记", "公安局", "养犬、犬证"),
    ("出生医学证明补办", "卫生健康委", "出生证明、补办"),
    ("预防接种证补办", "卫生健康委", "接种证、疫苗"),
    ("生育津贴申领", "医疗保障局", "生育津贴、生育保险"),
    ("公租房申请", "住建局", "公租房、保障房"),
    ("物业纠纷投诉", "住建局", "物业、投诉"),
    ("电梯故障报修", "市场监管局", "电梯、故障"),
    ("公交线路咨询", "交通运输局", "公交、线路"),
    ("出租车投诉", "交通运输局", "出租车、投诉"),
    ("农村宅基地审批", "农业农村局", "宅基地、建房"),
    ("垃圾分类咨询", "综合行政执法局", "垃圾分类、垃圾"),
]
TEMPLATES = [
    "{区}{人群}{事项}需要哪些材料？",
    "{人群}{事项}在{区}哪里办理？",
    "{区}{人群}{事项}多久能办好？",
    "{人群}在{区}{事项}可以网上办理吗？",
    "{区}{人群}{事项}收费标准是多少？",
    "{区}{人群}{事项}的办理流程是什么？",
    "{区}{人群}{事项}有什么条件？",
    "{区}{事项}窗口{人群}专窗的工作时间？",
    "{区}{人群}{事项}能否委托他人代办？",
    "{区}{人群}{事项}进度怎么查询？",
    "{区}{人群}办理{事项}要预约吗？",
    "{区}{人群}{事项}被退回了怎么办？",
]
TEMPLATE_WORDS = [
    "材料",
    "在哪里办",
    "多久",
    "网上办理",
    "收费",
    "流程",
    "条件",
    "工作时间",
    "代办",
    "进度查询",
    "预约",
]
MATERIALS = [
    "身份证",
    "户口簿",
    "一寸免冠照片",
    "申请表",
    "结婚证",
    "房产证明",
    "租房合同",
    "劳动合同",
    "银行卡",
    "营业执照",
]


def generate_entries(count: int, rng: random.Random) -> list[KnowledgeEntry]:
    combinations = len(MATTERS) * len(AUDIENCES) * len(DISTRICTS) * len(TEMPLATES)
    entries = []
    for entry_id, code in enumerate(rng.sample(range(combinations), count), start=1):
        code, template = divmod(code, len(TEMPLATES))
        code, district = divmod(code, len(DISTRICTS))
        matter, audience = divmod(code, len(AUDIENCES))
        name, department, keywords = MATTERS[matter]
        question = TEMPLATES[template].format(区=DISTRICTS[district], 人群=AUDIENCES[audience], 事项=name)
        materials = "、".join(rng.sample(MATERIALS, rng.randint(2, 4)))
        answer = (
            f"{AUDIENCES[audience]}办理{name}，请携带{materials}到{DISTRICTS[district]}行政服务中心{department}窗口办理，"
            f"符合条件的{rng.randint(1, 20)}个工作日内办结，不收取费用。"
            f"也可通过浙里办App搜索“{name}”在线申请，进度可在“我的办件”中查询。"
            f"工作时间为周一至周五上午8:30至12:00、下午{rng.choice(['13:30', '14:00', '14:30'])}至17:00，"
            f"咨询电话0578-{rng.randint(2000000, 2999999)}。"
        )
        entries.append(
            KnowledgeEntry(
                id=entry_id,
                question=question,
                answer=answer,
                keywords=tuple(keywords.split("、")),
                department_code=department,
                valid_to=date(2025, 3, 31) if rng.random() < 0.03 else None,
                retired=rng.random() < 0.02,
            )
        )
    return entries


def generate_queries(count: int, rng: random.Random) -> list[tuple[str, str]]:
    """What agents type: a matter's keyword, name or a prefix of it, then maybe keywords, districts
    or template words. Each query comes with its first keyword."""
    queries = []
    for _ in range(count):
        name, _, keywords = rng.choice(MATTERS)
        words = [rng.choice([*keywords.split("、"), name, name[: rng.randint(2, len(name))]])]
        for _ in range(rng.randint(0, 2)):
            words.append(rng.choice([*keywords.split("、"), rng.choice(TEMPLATE_WORDS), rng.choice(DISTRICTS)]))
        queries.append((("" if rng.random() < 0.3 else " ").join(dict.fromkeys(words)), words[0]))
    return queries


def rss_mib() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096 / 2**20


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def share(flags: list[bool]) -> str:
    return f"{sum(flags) / len(flags):.0%}"


def summary(milliseconds: list[float]) -> str:
    return (
        f"p50 {percentile(milliseconds, 0.5):7.3f} ms   p99 {percentile(milliseconds, 0.99):7.3f} ms   "
        f"max {max(milliseconds):7.3f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=27000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--baseline-queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=12345)
    args = parser.parse_args()
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()

    rng = random.Random(args.seed)
    entries = generate_entries(args.entries, rng)
    queries = generate_queries(args.queries, rng)
    print(
        f"{len(entries)} entries, {sum(e.retired for e in entries)} retired, "
        f"{sum(e.valid_to is not None for e in entries)} expired; {len(queries)} queries"
    )

    rss_before = rss_mib()
    started = time.perf_counter()
    index = KnowledgeIndex(entries)
    print(f"build: {time.perf_counter() - started:.1f} s, resident memory +{rss_mib() - rss_before:.0f} MiB")

    questions = {entry.id: entry.question for entry in entries}
    # On topic: the first keyword typed is in the top hit's question or keywords.
    about = {entry.id: entry.question + "、".join(entry.keywords) for entry in entries}
    timings, hit_counts, on_topic = [], [], []
    for query, first in queries:
        started = time.perf_counter()
        hits = index.search(query, TODAY)
        timings.append((time.perf_counter() - started) * 1000)
        hit_counts.append(len(hits))
        on_topic.append(bool(hits) and first in about[hits[0].entry_id])
    print(f"index search   ({len(queries)} queries): {summary(timings)}   top hit on topic {share(on_topic)}")
    print(
        f"hits per query (limit 10): mean {statistics.mean(hit_counts):.1f}, "
        f"queries without hits {sum(count == 0 for count in hit_counts)}"
    )

    subset = queries[: args.baseline_queries]
    baseline, baseline_on_topic = [], []
    for query, first in subset:
        started = time.perf_counter()
        top = process.extract(query, questions, scorer=fuzz.ratio, limit=10)
        baseline.append((time.perf_counter() - started) * 1000)
        baseline_on_topic.append(first in about[top[0][2]])
    ours = timings[: len(subset)]
    ours_on_topic = on_topic[: len(subset)]
    print(f"index search   ({len(subset)} queries): {summary(ours)}   top hit on topic {share(ours_on_topic)}")
    print(f"rapidfuzz scan ({len(subset)} queries): {summary(baseline)}   top hit on topic {share(baseline_on_topic)}")
    print(
        f"baseline / index: p50 {percentile(baseline, 0.5) / percentile(ours, 0.5):.1f}x, "
        f"p99 {percentile(baseline, 0.99) / percentile(ours, 0.99):.1f}x"
    )

    editing = entries[len(entries) // 2]
    assert editing.id is not None  # generate_entries numbers every entry
    started = time.perf_counter()
    for _ in range(100):
        index.remove(editing.id)
        index.add(editing)
    print(f"edit (remove + add): {(time.perf_counter() - started) * 10:.2f} ms")

    for query, _ in queries[:5]:
        found = index.search(query, TODAY, limit=3)
        shown = "  |  ".join(f"{questions[hit.entry_id]} {hit.score:.2f} {hit.matched}" for hit in found)
        print(f"  {query!r}: {shown}")


if __name__ == "__main__":
    main()
