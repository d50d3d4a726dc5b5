"""Chinese, Japanese and Korean search (issue 13.4): words inside longer text, the Chinese names of automatic tags
and categories, mixed-language queries, and no spelling or meaning noise from the English-only helpers."""

import pytest
from django.core.management import call_command

from photocloud.search import cjk, names, selectors
from photocloud.search.query import parse, tokens
from photocloud.vision.labels import names as tag_names
from tests.factories import album, ids, photo


@pytest.fixture
def pictures(alice):
    shelf = album(alice, title="日常", category="misc")
    return {
        "notice": photo(shelf, analysis={"category": "document", "text": "会议通知：请各部门负责人于周五下午参加。"}),
        "invoice": photo(shelf, title="发票扫描", description="二〇二四年 办公用品 invoice"),
        "tabby": photo(shelf, analysis={"category": "animal", "labels": ["tabby cat"]}),
        "persian": photo(shelf, analysis={"category": "animal", "labels": ["persian cat"]}),
        "dog": photo(shelf, analysis={"category": "animal", "labels": ["golden retriever", "pug"]}),
        "beach": photo(shelf, analysis={"category": "landscape", "labels": ["beach", "sandbar"]}),
        "lake": photo(shelf, analysis={"category": "landscape", "labels": ["lakeshore"]}),
        "portrait": photo(shelf, analysis={"category": "portrait", "labels": ["suit"]}),
        "tokyo": photo(shelf, title="東京タワーの夜景"),
        "seoul": photo(shelf, description="서울여행 사진"),
    }


def _found(viewer, q) -> set:
    return ids(selectors.search(viewer, q=q).results[0:50])


def _only(pictures, *keys) -> set:
    return {pictures[key].pk for key in keys}


@pytest.mark.parametrize(
    "query, expected",
    [
        ("会议", ["notice"]),  # words inside text read from a picture
        ("通知", ["notice"]),
        ("负责人", ["notice"]),
        ("会议通知", ["notice"]),
        ("发票", ["invoice"]),  # inside a title
        ("扫描", ["invoice"]),
        ("办公用品", ["invoice"]),  # in a description
        ("猫", ["tabby", "persian"]),  # the generic name of the automatic tags
        ("虎斑猫", ["tabby"]),
        ("波斯猫", ["persian"]),
        ("狗", ["dog"]),
        ("金毛", ["dog"]),
        ("海滩", ["beach"]),
        ("海边", ["beach"]),
        ("湖边", ["lake"]),
        ("人像", ["portrait"]),  # the Chinese names of the default categories
        ("风景", ["beach", "lake"]),
        ("动物", ["tabby", "persian", "dog"]),
        ("タワー", ["tokyo"]),  # kana in pairs of characters
        ("東京", ["tokyo"]),
        ("서울", ["seoul"]),  # hangul in pairs of characters
        ("여행", ["seoul"]),
        ("tabby 猫", ["tabby"]),  # mixed languages: every word must match
        ("invoice 发票", ["invoice"]),
    ],
)
def test_chinese_japanese_and_korean_words_are_found(alice, pictures, query, expected):
    assert _found(alice, query) == _only(pictures, *expected)


def test_no_picture_holds_every_word_so_those_holding_one_are_less_likely(alice, pictures):
    found = selectors.search(alice, q="猫 golden")
    assert found.strong_count == 0
    assert set(found.results.ids) == _only(pictures, "tabby", "persian", "dog")


@pytest.mark.parametrize(
    "query, expected",
    [
        ("invoice", ["notice_en", "invoice_zh"]),  # the glossary's Chinese word, in the text of a Chinese invoice
        ("发票", ["invoice", "invoice_zh", "notice_en"]),  # in a title and a Chinese text; "invoice" in an English one
        ("通知", ["notice", "notice_en"]),
        ("meeting", ["notice", "notice_en"]),
        ("meeting notice", ["notice", "notice_en"]),  # each word translated: 会议 通知
        ("水果", ["lemon"]),  # a generic Chinese word of a tag family
        ("发票 invoice", ["invoice", "invoice_zh", "notice_en"]),
    ],
)
def test_a_query_in_one_language_finds_text_in_the_other(alice, pictures, query, expected):
    shelf = album(alice, title="scans")
    more = {
        "notice_en": photo(shelf, analysis={"category": "document", "text": "MEETING NOTICE\nInvoice approvals"}),
        "invoice_zh": photo(shelf, analysis={"category": "document", "text": "增值税普通发票 金额"}),
        "bill": photo(shelf, analysis={"category": "document", "text": "Electricity bill for May"}),
        "lemon": photo(shelf, analysis={"category": "food", "labels": [["lemon", 0.8]]}),
    }
    found = _found(alice, query)
    everything = {**pictures, **more}
    assert found >= {everything[key].pk for key in expected}, query
    assert everything["tabby"].pk not in found


def test_reasons_name_the_chinese_name_of_the_tag(alice, pictures):
    found = selectors.search(alice, q="猫")
    reasons = found.reasons(found.results[0:10])
    assert reasons[pictures["tabby"].pk][0] == "automatic tag “虎斑猫”"


def test_no_spelling_or_meaning_noise_on_chinese(alice, pictures):
    photo(album(alice, title="更多"), tags=["会议室", "beach house"])
    for query in ("会议通知", "猫", "海边", "发票扫描", "会议室", "beach 海边"):
        parsed = parse(query, visible=selectors.visible_labels(alice))
        assert parsed.suggestion == "", query
        assert [e.term for e in parsed.expansions if e.kind == "meaning"] == [], query
    english = parse("seaside", visible=selectors.visible_labels(alice))
    assert not any(cjk.has_cjk(e.term) for e in english.expansions)  # English meanings stay English


def test_segmentation_is_the_same_for_documents_and_queries():
    assert {"会议", "通知"} <= set(tokens("会议通知：请参加"))
    assert tokens("ありがとう") == ["あり", "りが", "がと", "とう"]
    assert tokens("猫") == ["猫"]
    assert tokens("Café 发票") == ["cafe", "发票"]


def _chinese(tag: str) -> list[str]:
    return [name for name in names.label_names(tag) if cjk.has_cjk(name)]


def test_every_automatic_tag_and_category_has_a_chinese_name():
    assert all(_chinese(tag) for tag in tag_names())
    for key in ("portrait", "landscape", "food", "document", "architecture", "animal", "illustration"):
        assert all(cjk.has_cjk(name) for name in names.category_names(key))
    cats = {tag for tag in tag_names() if "猫" in _chinese(tag)}
    assert cats == {"tabby cat", "striped cat", "persian cat", "siamese cat", "egyptian mau"}
    assert {tag for tag in tag_names() if "cat" in names.label_names(tag)} == cats  # and their English generic word
    assert sum("狗" in _chinese(tag) for tag in tag_names()) == 118  # ImageNet's dog breeds, 151-268


def test_an_existing_index_is_rebuilt_with_chinese_words(alice, pictures):
    call_command("rebuild_search_index", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert _found(alice, "通知") == _only(pictures, "notice")
    assert _found(alice, "猫") == _only(pictures, "tabby", "persian")
