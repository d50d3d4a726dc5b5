"""The other names an automatic tag or a default category is found by: its Chinese names (猫 for a tabby cat, 人像
for portrait) and English generic words (cat, dog, sea, boat…), from the reviewed tables in data/ (see its README)."""

import csv
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data"


def _rows(file: str) -> list[list[str]]:
    with (DATA / file).open(encoding="utf-8") as table:
        return [row for row in csv.reader(table, delimiter="\t") if row and not row[0].startswith("#")]


def _class_ids(ranges: str) -> list[int]:
    """ "0-6,389" → [0, 1, …, 6, 389]"""
    ids = []
    for part in ranges.split(","):
        first, _, last = part.partition("-")
        ids += range(int(first), int(last or first) + 1)
    return ids


@cache
def _label_names() -> dict[str, list[str]]:
    from photocloud.vision.labels import names as tag_names

    found: dict[str, list[str]] = {}
    for _, tag, chinese in _rows("labels_zh.tsv"):
        found.setdefault(tag, []).extend(chinese.split(","))
    for generic, ranges in _rows("generic_en.tsv"):
        for class_id in _class_ids(ranges):
            found.setdefault(tag_names()[class_id], []).append(generic)
    return {tag: list(dict.fromkeys(other)) for tag, other in found.items()}


def label_names(tag: str) -> list[str]:
    """The other names of an automatic tag ("tabby cat" → 虎斑猫, 猫, cat); none for a name the tables lack."""
    return _label_names().get(tag, [])


@cache
def generic_words() -> frozenset[str]:
    """The English generic words (cat, dog, sea…)."""
    return frozenset(generic for generic, _ in _rows("generic_en.tsv"))


@cache
def _category_names() -> dict[str, list[str]]:
    return {key: chinese.split(",") for key, chinese in _rows("categories_zh.tsv")}


def category_names(key: str) -> list[str]:
    """The Chinese names of a default category ("portrait" → 人像, 人物); a user's own category has none."""
    return _category_names().get(key, [])
