"""The other names an automatic tag or a default category is found by: its Chinese names (猫 for a tabby cat, 人像
for portrait), generic words of the tag's family in English and Chinese (cat, dog, sea, drink, vehicle, building; 水果,
交通工具…) and the category's other English names (drawing for illustration), from the reviewed tables in data/ (see
its README). Also the everyday words of one language a query may be answered by in the other (invoice, 发票), and the
scene words a photograph's category and dominant colour hint at (sky for a mostly blue landscape)."""

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
    for file in ("generic_en.tsv", "generic_zh.tsv"):
        for generic, ranges in _rows(file):
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


@cache
def _category_words() -> dict[str, list[str]]:
    return {key: english.split(",") for key, english in _rows("categories_en.tsv")}


def category_words(key: str) -> list[str]:
    """The other English names of a default category ("illustration" → drawing, cartoon; "architecture" → building)."""
    return _category_words().get(key, [])


@cache
def _glossary() -> dict[str, list[str]]:
    """{word or phrase: its words in the other language}, both ways: "invoice" → 发票, 账单; 发票 → invoice, bill."""
    found: dict[str, list[str]] = {}
    for english, chinese in _rows("glossary_zh.tsv"):
        english_words, chinese_words = english.split(","), chinese.split(",")
        for word in english_words:
            found.setdefault(word, []).extend(chinese_words)
        for word in chinese_words:
            found.setdefault(word, []).append(english_words[0])
    return {word: list(dict.fromkeys(other)) for word, other in found.items()}


def translations(word: str) -> list[str]:
    """The word (or phrase) in the other language, from the reviewed glossary; an English plural as its singular."""
    glossary = _glossary()
    if word not in glossary and word.isascii() and word.endswith("s"):
        word = word[:-1]
    return glossary.get(word, [])


PHOTOGRAPHS = ("portrait", "landscape", "food", "architecture", "animal")  # the categories "*" stands for


@cache
def _scene_words() -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    for category, colour, words in _rows("scene_colours.tsv"):
        for key in PHOTOGRAPHS if category == "*" else [category]:
            found.setdefault((key, colour), []).extend(words.split(","))
    return found


def scene_words(category: str, colour: str) -> list[str]:
    """What a photograph of this category whose pixels are mostly this colour may show: a guess, never a label (a
    mostly blue landscape: sky, sea; a mostly green photograph: plants, grass)."""
    return _scene_words().get((category, colour), [])
