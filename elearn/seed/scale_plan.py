"""The plan of a scale seed: how many schools of which kinds where, their classes, staff and families.

Everything is decided here, deterministically, before anything is written (``elearn.seed.scale``).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import click


@dataclass(frozen=True)
class ScaleSpec:
    """How big a generated root is, and the prefixes that keep its accounts apart from others'."""

    code: str
    name: str
    counties: int
    schools: int
    teachers: int
    students: int
    guardians: int
    #: usernames are "<prefix>s0000001" (students), "<prefix>t…" (teachers), "<prefix>g…"
    username_prefix: str
    #: three digits each; guardians' and teachers' mobile numbers are the prefix + 8 digits
    guardian_phone_prefix: str
    teacher_phone_prefix: str
    universities: int = 0
    #: share of (non-university) schools that are rural: a mountainous prefecture
    rural_share: float = 0.65
    class_size: int = 45
    #: share of students who have a brother or sister at the same school (they share guardians)
    sibling_share: float = 0.12
    seed: int = 146


PREFECTURE = ScaleSpec(
    code="PREF-SCALE",
    name="云岭州",
    counties=8,
    schools=1675,
    teachers=40_000,
    students=700_000,
    guardians=1_300_000,
    universities=2,
    username_prefix="ps",
    guardian_phone_prefix="150",
    teacher_phone_prefix="180",
)

COUNTY = ScaleSpec(
    code="COUNTY-SCALE",
    name="县级规模数据",
    counties=1,
    schools=210,
    teachers=5_000,
    students=87_500,
    guardians=162_500,
    username_prefix="cs",
    guardian_phone_prefix="151",
    teacher_phone_prefix="181",
)

#: (kind, grades as (code, level, name), share of non-university schools, relative size of a school,
#: teachers per class)
KINDS: list[tuple[str, list[tuple[str, int, str]], float, float, float]] = [
    ("kindergarten", [("K1", 0, "小班"), ("K2", 0, "中班"), ("K3", 0, "大班")], 0.30, 0.35, 2.0),
    (
        "primary",
        [
            (f"G{n}", n, name)
            for n, name in enumerate(
                ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"], 1
            )
        ],
        0.52,
        1.0,
        2.2,
    ),
    ("junior", [("G7", 7, "七年级"), ("G8", 8, "八年级"), ("G9", 9, "九年级")], 0.11, 2.2, 3.0),
    ("senior", [("G10", 10, "高一"), ("G11", 11, "高二"), ("G12", 12, "高三")], 0.04, 3.0, 3.5),
    (
        "vocational",
        [("V1", 13, "中职一年级"), ("V2", 14, "中职二年级"), ("V3", 15, "中职三年级")],
        0.03,
        2.0,
        3.5,
    ),
]
UNIVERSITY_GRADES = [("U1", 13, "大一"), ("U2", 14, "大二"), ("U3", 15, "大三"), ("U4", 16, "大四")]
KIND_GRADES = {kind: grades for kind, grades, *_ in KINDS} | {"university": UNIVERSITY_GRADES}
KIND_SIZE = {kind: size for kind, _, _, size, _ in KINDS} | {"university": 8.0}
KIND_TEACHERS = {kind: ratio for kind, _, _, _, ratio in KINDS} | {"university": 4.0}
#: senior and vocational schools sit in county towns; village schools are primary and kindergartens
KIND_URBAN_BIAS = {
    "kindergarten": 0.0,
    "primary": 0.0,
    "junior": 0.25,
    "senior": 0.6,
    "vocational": 0.7,
}

#: (name, code, how urban: 1 is the prefecture seat, 0 a remote mountain county, relative size)
COUNTY_LAYOUT = [
    ("云岭市", "C1", 0.9, 1.6),
    ("东山县", "C2", 0.2, 1.0),
    ("雪峰县", "C3", 0.1, 1.1),
    ("白水县", "C4", 0.15, 0.9),
    ("高原新区", "C5", 0.6, 0.7),
    ("龙溪县", "C6", 0.1, 1.0),
    ("石门县", "C7", 0.2, 0.9),
    ("金河县", "C8", 0.15, 0.8),
]
# A single-county root is a county, not the prefecture seat.
SINGLE_COUNTY = ("青山县", "C1", 0.2, 1.0)

HAN_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
HAN_GIVEN = "子涵欣怡梓轩浩宇雨桐思远佳琪俊杰诗一诺语嫣明嘉文博雅晨阳志强建国秀英丽华伟芳敏静磊洋勇军杰娟涛超霞平刚桂兰玉兰春梅海燕红霞德明晓东天佑若溪家豪俊熙梦瑶嘉懿沐宸安然"
YI_SURNAMES = [
    "吉克",
    "阿苏",
    "沙马",
    "海来",
    "曲比",
    "马海",
    "俄木",
    "阿的",
    "吉伍",
    "日火",
    "勒格",
    "阿尔",
]
YI_GIVEN = "阿木尔古呷子拉格日史伍牛莫惹且布约哈作石以支体色机"
TOWNS = "安宁河西普格昭觉美姑越西甘洛雷波布拖金阳木里盐源德昌会东宁南喜德冕宁"
CN_NUMBERS = "零一二三四五六七八九十"
SCHOOL_SUFFIX = {
    "kindergarten": "幼儿园",
    "primary": "小学",
    "junior": "中学",
    "senior": "高级中学",
    "vocational": "职业技术学校",
    "university": "学院",
}


class ScaleSeedError(click.ClickException):
    """A scale seed cannot run here (wrong database, impossible numbers)."""


# --- planning: the org tree, sizes and quotas ------------------------------------------------------


@dataclass
class School:
    index: int
    county_index: int
    kind: str
    is_rural: bool
    weight: float = 1.0
    students: int = 0
    teachers: int = 0
    sibling_pairs: int = 0
    single_guardian_families: int = 0
    #: filled when ids are known
    id: int = 0
    class_ids: list[int] = field(default_factory=list)
    class_sizes: list[int] = field(default_factory=list)


def apportion(total: int, weights: Sequence[float], caps: Sequence[int] | None = None) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder), never above ``caps``."""
    result = [0] * len(weights)
    remaining = total
    active = [i for i, w in enumerate(weights) if w > 0 and (caps is None or caps[i] > 0)]
    while remaining > 0 and active:
        weight_sum = sum(weights[i] for i in active)
        shares = {i: remaining * weights[i] / weight_sum for i in active}
        given = {i: int(shares[i]) for i in active}
        by_remainder = sorted(active, key=lambda i: (given[i] - shares[i], i))
        for i in by_remainder[: remaining - sum(given.values())]:
            given[i] += 1
        for i in active:
            add = given[i] if caps is None else min(given[i], caps[i] - result[i])
            result[i] += add
            remaining -= add
        if caps is not None:
            active = [i for i in active if result[i] < caps[i]]
    if remaining:
        raise ScaleSeedError(f"cannot split {total} within the limits given")
    return result


def counties_of(spec: ScaleSpec) -> list[tuple[str, str, float, float]]:
    if spec.counties == 1:
        return [SINGLE_COUNTY]
    layout = []
    for i in range(spec.counties):
        name, code, urban, size = COUNTY_LAYOUT[i % len(COUNTY_LAYOUT)]
        if i >= len(COUNTY_LAYOUT):
            name, code = f"{name}{i // len(COUNTY_LAYOUT) + 1}", f"C{i + 1}"
        layout.append((name, code, urban, size))
    return layout


def plan_schools(spec: ScaleSpec, rng: random.Random) -> list[School]:
    """Kinds, counties, rural flags and sizes of every school; exact totals, plausible spread."""
    counties = counties_of(spec)
    ordinary = spec.schools - spec.universities
    kind_counts = apportion(ordinary, [share for _, _, share, _, _ in KINDS])
    kinds = [kind for (kind, *_), n in zip(KINDS, kind_counts, strict=True) for _ in range(n)]
    rng.shuffle(kinds)
    per_county = apportion(ordinary, [size for *_, size in counties])
    schools: list[School] = []
    for county_index, n in enumerate(per_county):
        for _ in range(n):
            schools.append(School(len(schools), county_index, kinds[len(schools)], False))
    # The rural ones: lowest "urban score" first, so remote counties and village kinds lead.
    scores = [
        rng.random() + counties[s.county_index][2] * 1.2 + KIND_URBAN_BIAS[s.kind] for s in schools
    ]
    for i in sorted(range(len(schools)), key=lambda i: scores[i])[
        : round(spec.rural_share * ordinary)
    ]:
        schools[i].is_rural = True
    for _ in range(spec.universities):
        schools.append(School(len(schools), 0, "university", False))
    for school in schools:
        school.weight = (
            KIND_SIZE[school.kind] * (0.75 if school.is_rural else 1.4) * rng.uniform(0.6, 1.4)
        )
    minimum = [len(KIND_GRADES[s.kind]) for s in schools]
    if spec.students < sum(minimum):
        raise ScaleSeedError(f"{spec.students} students cannot fill {sum(minimum)} classes")
    extra = apportion(spec.students - sum(minimum), [s.weight for s in schools])
    for school, least, more in zip(schools, minimum, extra, strict=True):
        school.students = least + more
        grades = len(KIND_GRADES[school.kind])
        per_grade = max(1, round(school.students / grades / spec.class_size))
        school.class_sizes = apportion(school.students, [1.0] * (grades * per_grade))
    classes = [len(s.class_sizes) for s in schools]
    # Every class gets its head teacher (班主任) when there are enough teachers; the rest of the
    # staff follows the number of classes, more per class in higher schools.
    least_teachers = classes if spec.teachers >= sum(classes) else [1] * len(schools)
    if spec.teachers < sum(least_teachers):
        raise ScaleSeedError(f"{spec.teachers} teachers are too few for {len(schools)} schools")
    more_teachers = apportion(
        spec.teachers - sum(least_teachers),
        [n * KIND_TEACHERS[s.kind] for n, s in zip(classes, schools, strict=True)],
    )
    for school, least, more in zip(schools, least_teachers, more_teachers, strict=True):
        school.teachers = least + more
    plan_families(spec, schools)
    return schools


def plan_families(spec: ScaleSpec, schools: list[School]) -> None:
    """Sibling pairs (sharing guardians) and one-guardian families, so guardians total exactly.

    With F families of which P are sibling pairs and O have one guardian:
    students = F + P and guardians = 2F - O.
    """
    students, guardians = spec.students, spec.guardians
    pairs = round(students * spec.sibling_share / 2)
    pairs = min(max(pairs, students - guardians, 0), students // 2)
    single = 2 * (students - pairs) - guardians
    if not 0 <= single <= students - pairs:
        raise ScaleSeedError(
            f"{guardians} guardians cannot look after {students} students with one or two each"
        )
    weights = [float(s.students) for s in schools]
    per_school_pairs = apportion(pairs, weights, [s.students // 2 for s in schools])
    for school, n in zip(schools, per_school_pairs, strict=True):
        school.sibling_pairs = n
    families = [s.students - s.sibling_pairs for s in schools]
    per_school_single = apportion(single, [float(n) for n in families], families)
    for school, n in zip(schools, per_school_single, strict=True):
        school.single_guardian_families = n
