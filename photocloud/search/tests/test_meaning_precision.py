"""How well close meanings choose labels, with the real sentence model over a realistic vocabulary: the 1000
ImageNet labels, the seven classes and everyday tags. Queries are judged by hand (labels that are right, labels
that are wrong); the stricter threshold for words the vocabulary already holds must keep wrong labels out without
losing the wanted ones."""

from functools import cache

import pytest

from photocloud.library.models import DEFAULT_CATEGORIES
from photocloud.search import meaning
from photocloud.search.models import SearchTerm
from photocloud.search.query import MEANING_THRESHOLD, parse, tokens
from photocloud.vision.labels import names

# The tags and labels bench/search_text.py fills its library with, frozen here so the figures stay comparable.
TAGS = [
    "beach",
    "sunset",
    "harbour",
    "garden",
    "family",
    "birthday",
    "mountain",
    "lake",
    "forest",
    "street",
    "market",
    "bridge",
    "castle",
    "river",
    "snow",
    "dinner",
    "office",
    "meeting",
    "invoice",
    "receipt",
    "poster",
    "museum",
    "concert",
    "wedding",
    "festival",
    "island",
    "desert",
    "tower",
    "church",
    "station",
    "airport",
    "train",
    "bicycle",
    "flower",
    "autumn",
    "spring",
    "summer",
    "winter",
    "night",
    "morning",
    "city",
    "village",
    "farm",
    "smile",
    "seashore",
    "alp",
    "website",
    "passenger",
    "car",
    "streetcar",
]
DOGS, CATS, ANIMALS = set(names()[151:269]), set(names()[281:286]), set(names()[:398])
BIRDS = set(names()[7:25] + names()[80:101] + names()[127:147])
# query: (right labels, wrong labels). Labels sharing a word with the query are found by keyword, so never judged. A
# category is not judged right for a query more specific than it ("animal" for "kitten", "food" for "dinner"): it
# would bring in every picture of its kind (issue 13.2), and query.py leaves it out unless it is the closest meaning.
JUDGED = {
    "beach": ({"seashore", "sandbar"}, {"desert", "lake", "harbour", "patio"}),
    "seaside": ({"beach", "seashore"}, {"castle", "tram"}),
    "puppy": (DOGS, {"hot dog", "teddy bear"}),
    "paperwork": ({"document", "invoice", "receipt"}, {"toilet paper", "paper towel"}),
    "happiness": (set(), {"smile", "food", "television", "pizza", "baseball", "suit", "ipod", "sunset"}),
    "ocean": ({"beach", "seashore", "coral reef"}, {"lake"}),
    "sea": ({"beach", "seashore", "coral reef"}, {"lake"}),
    "kitten": (CATS, {"teddy bear", "otter", "rooster"}),
    "cat": ({"egyptian mau"}, {"hamster", "beagle"}),
    "dog": (DOGS, set()),
    "car": (
        {"jeep", "limousine", "pickup truck", "convertible", "minivan", "taxicab", "station wagon"},
        {"recreational vehicle"},
    ),
    "automobile": (
        {
            "sports car",
            "race car",
            "jeep",
            "limousine",
            "convertible",
            "minivan",
            "taxicab",
            "pickup truck",
            "station wagon",
        },
        {"railroad car", "freight car", "car wheel"},
    ),
    "boat": (
        {
            "motorboat",
            "schooner",
            "fireboat",
            "lifeboat",
            "kayak",
            "canoe",
            "speedboat",
            "catamaran",
            "trimaran",
            "gondola",
            "container ship",
        },
        set(),
    ),
    "ship": ({"schooner", "ocean liner", "aircraft carrier", "fireboat", "motorboat", "lifeboat"}, {"freight car"}),
    "coffee": ({"espresso", "coffeepot", "espresso machine"}, {"burrito", "ice cream", "pizza"}),
    "meal": (
        {
            "dinner",
            "restaurant",
            "dining table",
            "pizza",
            "plate",
            "mashed potatoes",
            "soup bowl",
            "cheeseburger",
        },
        set(),
    ),
    "bird": (BIRDS, set()),
    "tree": ({"forest"}, {"treeing walker coonhound", "tower"}),
    "flowers": ({"flower", "daisy", "garden"}, {"perfume", "candle", "necklace", "cauliflower"}),
    "sand": ({"beach", "desert", "sandbar", "seashore"}, {"sandal", "rock crab"}),
    "football": ({"soccer ball", "rugby ball"}, {"basketball", "baseball", "television", "sports car", "volleyball"}),
    "skyscraper": ({"tower", "city"}, set()),
    "cathedral": ({"church", "monastery"}, set()),
    "countryside": ({"landscape", "village", "valley", "farm"}, set()),
    "hiking": ({"mountain", "backpack", "valley", "alp"}, set()),
    "holiday": (set(), {"winter", "autumn"}),
    "party": ({"festival", "birthday"}, set()),
    "lake": ({"lakeshore"}, {"beach", "hot tub", "bathtub"}),
    "food": ({"dinner", "pizza", "restaurant", "ice cream", "cheeseburger"}, {"television", "animal"}),
    "mountain": ({"valley", "alp", "volcano", "cliff"}, {"desert"}),
    "sunset": (set(), {"night", "summer", "autumn", "morning", "sunscreen"}),
    "snow": ({"winter", "ski", "snowplow"}, {"autumn", "spring"}),
    "spring": (set(), {"summer", "winter", "autumn"}),
    "night": (set(), {"morning"}),
    "church": ({"monastery", "mosque", "altar"}, {"restaurant"}),
    "desert": (set(), {"beach", "sandal", "mountain"}),
    "dinner": ({"dining table", "restaurant", "pizza"}, set()),
    "garden": ({"flower", "patio"}, set()),
    "bridge": ({"viaduct"}, set()),
    "train": ({"steam locomotive", "electric locomotive", "railroad car", "freight car", "passenger car"}, set()),
    "farm": ({"barn", "tractor"}, set()),
    "invoice": ({"receipt", "document"}, {"vending machine", "chain mail"}),
    "wedding": ({"bridegroom", "gown", "church"}, {"quilt"}),
    "castle": ({"palace"}, {"barn", "cabbage", "beach"}),
    "animal": (ANIMALS, {"hot dog"}),
    "city": ({"street"}, {"beach"}),
}


@cache
def _embedded() -> tuple[tuple[str, bytes], ...]:
    """The vocabulary and its vectors, embedded once per process (the database is emptied after each test)."""
    vocabulary = sorted(set(names()) | {key for key, _ in DEFAULT_CATEGORIES} | set(TAGS))
    return tuple(zip(vocabulary, (vector.tobytes() for vector in meaning.embed(vocabulary)), strict=True))


@pytest.fixture
def vocabulary():
    SearchTerm.objects.bulk_create([SearchTerm(name=name, vector=vector) for name, vector in _embedded()])


def _meanings(query: str) -> list[str]:
    """Labels the query brings in by meaning, but not those its own words find anyway."""
    return [e.term for e in parse(query).expansions if e.kind == "meaning" and not set(e.words) & set(tokens(query))]


def _judge() -> tuple[int, int]:
    """Right and wrong labels brought in over all judged queries."""
    right = wrong = 0
    for query, (good, bad) in JUDGED.items():
        found = _meanings(query)
        right += len(good.intersection(found))
        wrong += len(bad.intersection(found))
    return right, wrong


def test_wanted_meanings_come_in(vocabulary):
    assert "beach" in _meanings("seaside")
    assert "document" in _meanings("paperwork")
    assert "seashore" in _meanings("beach")
    assert DOGS.intersection(_meanings("puppy"))
    # outranked by other breeds here, but still close enough where they are absent (test_meaning.py)
    assert "golden retriever" in dict(meaning.close_terms("puppy", MEANING_THRESHOLD, limit=50))


def test_weak_meanings_stay_out(vocabulary):
    assert not {"desert", "lake", "harbour"}.intersection(_meanings("beach"))
    assert "beach" not in _meanings("lake")
    assert "beach" not in _meanings("desert")
    assert "hot dog" not in _meanings("animal")
    assert _meanings("happiness") == []


def test_stricter_threshold_for_known_words_halves_wrong_labels(vocabulary, settings):
    right, wrong = _judge()
    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "SEARCH": {"MEANING_THRESHOLD_KNOWN": MEANING_THRESHOLD}}
    right_before, wrong_before = _judge()
    print(f"before: {right_before} right, {wrong_before} wrong; after: {right} right, {wrong} wrong")
    assert wrong <= wrong_before / 2
    assert right >= 0.8 * right_before  # 51 of 61 when measured (57 of 66 when categories still came in)
    assert right / (right + wrong) >= 0.88


def test_meanings_that_only_loosen_or_repeat_the_query_are_left_out(vocabulary):
    loosened = [e.words for e in parse("beach sunset").expansions if e.kind == "meaning"]
    assert ["beach"] not in loosened and ["sunset"] not in loosened
    for_dog = [e.words for e in parse("dog").expansions if e.kind == "meaning"]
    assert for_dog and not any("dog" in words for words in for_dog)  # "hot dog" is found by the word itself
