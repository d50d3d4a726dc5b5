"""From what someone typed to what the index is asked: word tokens, plus terms close in meaning or spelling.

Only word tokens ever leave this module (letters and digits; everything else separates words), so quotes,
operators of the full-text languages, SQL and control characters are just separators. Length is bounded.
"""

import datetime
import difflib
import functools
import itertools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

from photocloud.library.colors import PALETTE
from photocloud.library.models import DEFAULT_CATEGORIES

from . import cjk, meaning, names, people
from .models import SearchTerm

MAX_QUERY_LENGTH = 500
MAX_TOKENS = 12
MAX_TOKEN_LENGTH = 60
TOKEN = re.compile(r"[^\W_]+")
LATIN_END = "\u0250"  # accents are dropped from letters before this (Latin scripts), kept on others
# Cosine similarity of all-MiniLM-L6-v2 above which a label counts as "similar meaning" (puppy → golden retriever
# 0.60, seaside → beach 0.73, paperwork → document 0.65; beach → harbour 0.51 and happiness → smile 0.54 stay out),
# and how many such labels a query may bring in.
MEANING_THRESHOLD = 0.58
MEANING_TERMS = 5
# A query whose words the vocabulary already holds finds their labels by keyword, and its 0.58-0.60 neighbours are
# mostly siblings rather than synonyms (beach → desert 0.59, lake → beach 0.58, animal → hot dog 0.59): it needs
# a closer meaning. Measured over 46 judged queries on the ImageNet labels and everyday tags
# (tests/test_meaning_precision.py): wrong labels brought in 14 → 7, right ones 64 → 57. A margin below the best
# match was measured too and left out: it dropped more right labels (boat → lifeboat, meal → restaurant) than wrong.
MEANING_THRESHOLD_KNOWN = 0.60
# The seven default categories: too broad a meaning, unless the closest one.
BROAD = {label.lower() for _, label in DEFAULT_CATEGORIES} | {
    word for key, _ in DEFAULT_CATEGORIES for word in names.category_words(key)
}
SPELLING_CANDIDATES = 5  # close spellings tried, best first, until one is a label the viewer may see
# A word found in no label is looked for, one slip away, among every word of the viewer's pictures and albums (text
# read from them, titles, descriptions): "recipt" finds the receipts whose text says "Receipt". Only words of 4 to 15
# plain letters: a 15-letter word has about 850 spellings one slip away, each one lookup in the index.
INDEX_SPELLING_LENGTH = (4, 15)
LETTERS = "abcdefghijklmnopqrstuvwxyz"
# A year typed ("2023", "2023年", "in 2023") finds the pictures taken that year as well as text that says it: each
# picture's document holds the year it was taken among its labels (services._photo_fields), and a marker word of the
# month (MONTH_MARKER + "202305") that "May 2023" and "2023年5月" are also searched as. A plausible year: from the
# first photograph to next year (a camera clock set a little ahead).
FIRST_YEAR = 1826
MONTH_MARKER = "pctaken"
MONTHS = {
    name: number
    for number, names_of_month in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names_of_month
}
# Words that only say "when" before a date ("taken in 2023", "photos from May 2023"): dropped, or every word would
# have to be held.
DATE_PREPOSITIONS = ("taken", "in", "from", "during")
_CHINESE_DATE = re.compile(r"(?<!\d)(\d{4})\s*年(?:\s*(\d{1,2})\s*月)?")
_ENGLISH_DATE = re.compile(
    rf"\b(?:(?:{'|'.join(DATE_PREPOSITIONS)})\s+)*(?:({'|'.join(sorted(MONTHS, key=len, reverse=True))})\s+)?"
    r"(\d{4})\b"
)


def month_marker(year: int, month: int) -> str:
    """The marker word of a month in a picture's labels: never typed, kept out of the vocabulary."""
    return f"{MONTH_MARKER}{year}{month:02d}"


def _plausible_year(digits: str) -> bool:
    return FIRST_YEAR <= int(digits) <= datetime.date.today().year + 1


@dataclass(frozen=True)
class DateWords:
    """A date in a query: the word its pictures hold ("2023", or a month's marker) and the words typed for it."""

    term: str
    typed: tuple[str, ...]


def _dates(text: str) -> tuple[str, list[DateWords]]:
    """The query with a Chinese year ("2023年") as the bare year and the words that only say "when" before a date
    left out ("in 2023"), and the dates it names (years, and months of a year: "May 2023", "2023年5月")."""
    found = []

    def chinese(match: re.Match) -> str:
        year, month = match.group(1), match.group(2)
        if not _plausible_year(year) or (month and not 1 <= int(month) <= 12):
            return match.group(0)
        if month:  # kept as words too, as text writes them: 2023年5月 (a date read from an invoice)
            written = f"{year}年{int(month)}月"
            found.append(DateWords(month_marker(int(year), int(month)), tuple(tokens(written))))
            return f" {written} "
        found.append(DateWords(year, (year,)))
        return f" {year} "

    def english(match: re.Match) -> str:
        month, year = match.group(1), match.group(2)
        if not _plausible_year(year):
            return match.group(0)
        if month:
            found.append(DateWords(month_marker(int(year), MONTHS[month]), (month, year)))
            return f" {month} {year} "
        found.append(DateWords(year, (year,)))
        return f" {year} "

    text = _CHINESE_DATE.sub(chinese, text.lower())
    return " ".join(_ENGLISH_DATE.sub(english, text).split()), found


def tokens(text: str) -> list[str]:
    """The words of a text, lower-case, Latin letters without accents ("Café" gives "cafe"), Chinese, Japanese and
    Korean cut into words (cjk.py): documents and queries alike."""
    return list(_tokens(text))


@functools.lru_cache(maxsize=8192)
def _tokens(text: str) -> tuple[str, ...]:
    """tokens(), remembered: indexing many pictures cuts the same album titles, tags and label names again and again
    (Chinese ones through jieba, the costliest part)."""
    found = []
    for token in TOKEN.findall(_fold_accents(text.lower())):
        found += cjk.words(token) if cjk.has_cjk(token) else [token]
    return tuple(token[:MAX_TOKEN_LENGTH] for token in found)


def _fold_accents(text: str) -> str:
    if text.isascii():
        return text
    kept = []
    for char in unicodedata.normalize("NFKD", text):
        if not (unicodedata.combining(char) and kept and kept[-1] < LATIN_END):
            kept.append(char)
    return unicodedata.normalize("NFKC", "".join(kept))


EVERYWHERE = {"spelling", "people", "any word", "translation", "date"}
TRANSLATIONS = 3  # of each word typed, at most
TRANSLATED_QUERIES = 6  # alternatives in the other language, at most (each is one more group of index ranges)


@dataclass(frozen=True)
class Expansion:
    term: str
    # "spelling" and "people" are searched everywhere, "meaning" among labels only
    kind: str
    score: float = 1.0
    also: tuple[str, ...] = ()  # words it must hold besides the term's, never shown: the dates typed

    @property
    def words(self) -> list[str]:
        return [*tokens(self.term), *self.also]


@dataclass
class ParsedQuery:
    text: str
    required: list[str] = field(default_factory=list)
    expansions: list[Expansion] = field(default_factory=list)
    suggestion: str = ""
    dates: list[DateWords] = field(default_factory=list)
    # How many postings each word has, counted once for the statements of one search (backends.match_sql)
    posting_counts: dict = field(default_factory=dict, repr=False, compare=False)

    def __bool__(self):
        return bool(self.required or self.expansions)

    @property
    def phrases(self) -> list[list[str]]:
        """Alternatives searched everywhere: the query spelt right, people words as faces."""
        return [e.words for e in self.expansions if e.kind in EVERYWHERE and e.words]

    @property
    def label_phrases(self) -> list[list[str]]:
        """Alternatives searched among labels only: close meanings."""
        return [e.words for e in self.expansions if e.kind not in EVERYWHERE and e.words]

    @property
    def terms(self) -> tuple:
        return self.required, self.phrases, self.label_phrases

    @property
    def one_word_each(self) -> bool:
        """Is each alternative a single word? Then ranking from each word's strongest postings (backends.ranked_sql,
        bounded) is exact but for ties; several words that must all be held rarely meet among those few postings,
        and the bounded read would mostly be paid on top of the whole one."""
        return len(self.required) <= 1 and all(len(words) == 1 for words in self.phrases + self.label_phrases)

    @property
    def names_a_year(self) -> bool:
        """Is a bare year typed ("beach 2019")? Its postings are one of equal strength on every picture taken then
        (a tenth of the bench's library), so the strongest few thousand are no better than the rest and
        backends.settled_ranking would read them only to give up (SQLite at 100,000 pictures: 221-297 ms CPU with
        that attempt, 115-120 without; bench/README.md)."""
        return any(date.term.isdigit() for date in self.dates)

    def any_word(self) -> "ParsedQuery | None":
        """The query loosened to any one of its words (each whole, anywhere) and its alternatives, for a query of
        several words that nothing holds all of ("train ticket" on a railway ticket that reads "ticket" and a Chinese
        火车票; "发票 invoice" on two invoices, one in each language). None for a query of one word."""
        if len(self.required) < 2:
            return None
        loose = [Expansion(word, "any word") for word in self.required]
        return ParsedQuery(self.text, [], [*loose, *self.expansions], self.suggestion, self.dates)

    def match_sql(self, kind: str, albums=None, within=None, drive: bool = True):
        """backends.match_sql of this query; `drive`: let a rare word drive the reading of common ones (a statement
        to count them first, worth it only for SQL that will run)."""
        from .backends import match_sql

        counts = self.posting_counts if drive else None
        return match_sql(kind, *self.terms, albums=albums, within=within, counts=counts)

    def ranked_sql(self, kind: str, limit: int, albums=None, bounded: bool = True):
        from .backends import ranked_sql

        return ranked_sql(kind, self.terms, limit, albums=albums, bounded=bounded, counts=self.posting_counts)


# Whether the viewer may see a picture or album labelled with all these words (selectors.visible_labels).
LabelCheck = Callable[[tuple[str, ...]], bool]


# How many of the pictures and albums the viewer may see hold each of these words (counted up to a small cap), for
# the words any of them holds (selectors.held_words).
WordsCheck = Callable[[list[str]], dict[str, int]]


def _any_label(words: tuple[str, ...]) -> bool:
    return True


def parse(
    text: str, *, expand: bool = True, visible: LabelCheck = _any_label, held: WordsCheck | None = None
) -> ParsedQuery:
    """Tokens that must all match, and alternatives: people words as faces, close spellings and close meanings.

    The vocabulary behind spellings and meanings holds every user's labels, so each label it proposes is kept only
    when `visible` says the viewer may see something it labels: a suggestion must not reveal another user's private
    tag, nor one that was removed. Without `visible`, the whole vocabulary answers (tools and tests of the model).
    `held` looks a word up among the words of what the viewer may see; without it, spelling uses the labels only.
    """
    text = " ".join((text or "")[:MAX_QUERY_LENGTH].split())
    parsed = ParsedQuery(text=text)
    typed, parsed.dates = _dates(text)
    parsed.required = list(dict.fromkeys(tokens(typed)))[:MAX_TOKENS]
    parsed.expansions += [Expansion(" ".join(words), "people") for words in people.alternatives(parsed.required)]
    parsed.expansions += [Expansion(term, "translation") for term in _translated(typed)]
    if expand and parsed.required:
        _add_spelling(parsed, visible, held)
        if parsed.suggestion:  # "recipt" is looked for as "receipt", and so in Chinese too (收据, 小票)
            translated = [Expansion(term, "translation") for term in _translated(parsed.suggestion)]
            parsed.expansions += [e for e in translated if e not in parsed.expansions]
        _add_meaning(parsed, visible)
    _add_dates(parsed)
    return parsed


def _add_dates(parsed: ParsedQuery) -> None:
    """The query with a date as the word its pictures hold, the other words kept ("beach May 2023": beach and the
    month's marker), as typed and as spelt right: the words typed for a month, or "年", are text only. A bare year
    needs nothing more: it is the word the pictures hold."""
    spelt = [parsed.required, *([tokens(parsed.suggestion)] if parsed.suggestion else [])]
    for date in parsed.dates:
        for words in spelt:
            alternative = [*(word for word in words if word not in date.typed), date.term]
            expansion = Expansion(" ".join(alternative), "date")
            if set(alternative) != set(words) and expansion not in parsed.expansions:
                parsed.expansions.append(expansion)


def _translated(text: str) -> list[str]:
    """The query with one of the words typed in the other language (names.translations), when that leaves it in one
    language: "发票 invoice" also as "invoice invoice" and "发票 发票", so an invoice in either language answers; a
    whole phrase the glossary holds ("boarding pass") as its translation, or else each of its words translated when
    the glossary has them all. A Chinese run of characters is translated whole, as typed."""
    typed = list(dict.fromkeys(TOKEN.findall(_fold_accents(text.lower()))))[:MAX_TOKENS]
    whole = names.translations(" ".join(typed)) if len(typed) > 1 else []
    found = whole[:TRANSLATIONS]
    each = [names.translations(word)[:1] for word in typed]
    if len(typed) > 1 and not whole and all(each):  # every word in the other language: "meeting notice", "会议 通知"
        found.append(" ".join(translated for (translated,) in each))
    for position, word in enumerate(typed):
        others = typed[:position] + typed[position + 1 :]
        for other in names.translations(word)[:TRANSLATIONS]:
            # Only in one language: "sunset 海滩" for "beach sunset" would hardly find anything, at the cost of
            # reading both words' index ranges once more.
            # A number (a year) is of neither language: "beach 2023" is also "海滩 2023".
            if all(kept.isdigit() or cjk.has_cjk(kept) == cjk.has_cjk(other) for kept in others):
                found.append(" ".join([*others, other]))
    return list(dict.fromkeys(found))[:TRANSLATED_QUERIES]


_words_cache: tuple[tuple, frozenset] = ((), frozenset())


def _vocabulary_words() -> frozenset[str]:
    """Every word of the vocabulary, read again only when it changed. Spelling is a matter of letters: Chinese,
    Japanese and Korean words are left out (services.py keeps them out of the vocabulary, older rows aside)."""
    global _words_cache
    version = meaning.vocabulary_version(SearchTerm.objects.all())
    if _words_cache[0] != version:
        labels = SearchTerm.objects.values_list("name", flat=True).iterator()
        _words_cache = (version, frozenset(word for label in labels for word in tokens(label) if not cjk.has_cjk(word)))
    return _words_cache[1]


def _known(word: str, visible: LabelCheck) -> bool:
    """Whether `word` is a label the viewer may see (a label they may not see counts as unknown, as it must look)."""
    return word in _vocabulary_words() and visible((word,))


def _add_spelling(parsed: ParsedQuery, visible: LabelCheck, held: WordsCheck | None) -> None:
    """A word the viewer's pictures do not hold, but one they hold is spelt almost alike: search that too, and say so.
    A close label comes first (the vocabulary is small, so letters may differ more); otherwise a word of the viewer's
    pictures one slip away (`one_slip_away`), the one most of them hold."""
    corrected = []
    dated = {word for date in parsed.dates for word in date.typed}  # "sept 2023" is a month, not a slip
    for token in parsed.required:
        choice = None
        if (
            token not in dated
            and len(token) >= 4
            and not cjk.has_cjk(token)
            and token not in people.WORDS
            and token not in meaning.english_words()
            and not _known(token, visible)
        ):
            plain = token.isascii() and token.isalpha()
            if held is not None and plain and token in held([token]):
                corrected.append(token)  # a word of their pictures' text or names, spelt as they have it
                continue
            close = difflib.get_close_matches(token, _vocabulary_words(), n=SPELLING_CANDIDATES, cutoff=0.8)
            # A slip changes, drops or adds a letter or two; a word inside a longer one is another word ("tree" is
            # not a misspelt "street").
            close = [word for word in close if abs(len(word) - len(token)) <= 1]
            choice = next((word for word in close if visible((word,))), None)
            low, high = INDEX_SPELLING_LENGTH
            if choice is None and held is not None and plain and low <= len(token) <= high:
                counts = held(one_slip_away(token))
                choice = min(counts, key=lambda word: (-counts[word], word), default=None)
        corrected.append(choice or token)
    if corrected != parsed.required:
        parsed.suggestion = " ".join(corrected)
        parsed.expansions.append(Expansion(parsed.suggestion, "spelling"))


def one_slip_away(word: str) -> list[str]:
    """The spellings one typing slip from `word`: a letter dropped, added or changed, or two neighbours swapped."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    dropped = [left + right[1:] for left, right in splits if right]
    swapped = [left + right[1] + right[0] + right[2:] for left, right in splits if len(right) > 1]
    changed = [left + letter + right[1:] for left, right in splits if right for letter in LETTERS]
    added = [left + letter + right for left, right in splits for letter in LETTERS]
    return sorted(set(dropped + swapped + changed + added) - {word})


def _add_meaning(parsed: ParsedQuery, visible: LabelCheck) -> None:
    """Labels close in meaning to the whole query; a closer meaning is asked of words the vocabulary already has.
    The sentence model knows English only: a query with Chinese, Japanese or Korean words is not expanded (a meaning
    of its other words would drop them), nor proposes such labels; the automatic tags have Chinese names instead."""
    options = settings.PHOTOCLOUD.get("SEARCH", {})
    if not meaning.enabled() or any(cjk.has_cjk(token) for token in parsed.required):
        return
    dated = {word for date in parsed.dates for word in date.typed}
    if set(parsed.required) - dated <= set(PALETTE):  # a colour is found by itself; its neighbours are other colours
        return
    text = " ".join(token for token in parsed.required if not token.isdigit() and token not in dated)
    if len(text) < 3:
        return
    known = {" ".join(parsed.required)} | {e.term for e in parsed.expansions}
    threshold = options.get("MEANING_THRESHOLD", MEANING_THRESHOLD)
    known_words = all(_known(word, visible) for word in text.split())
    generic_words = all(word in names.generic_words() for word in text.split())
    if known_words:
        threshold = max(threshold, options.get("MEANING_THRESHOLD_KNOWN", MEANING_THRESHOLD_KNOWN))
    limit = options.get("MEANING_TERMS", MEANING_TERMS)
    close = [
        (term, score)
        for term, score in meaning.close_terms(text, threshold, limit=3 * limit)
        if term not in known and not cjk.has_cjk(term) and _adds_meaning(parsed.required, tokens(term))
    ]

    # A broader label would bring in every picture of its kind: a category only when it is the closest meaning
    # ("paperwork" → document, but "kitten" → cat, not every animal), and for a word the labels hold already, neither
    # a category nor a generic word ("dog" → not "cat", nor "animal"). A generic word the labels do not hold (a
    # library of cats searched for "dog"; names.generic_words is the same for every user, so this tells nothing of
    # anyone's labels) keeps the closest category ("horse" → a silhouette classed as an animal), not its siblings.
    closest = close[0][0] if close else None
    broad = BROAD | names.generic_words() if known_words else BROAD - {closest}
    if generic_words:  # a family word's generic neighbours are other families: "dog" is not "cat" (0.66)
        broad |= names.generic_words()
    chosen = list(itertools.islice((c for c in close if c[0] not in broad and visible(tuple(tokens(c[0])))), limit))
    # A label close in meaning holds the dates typed too ("beach 2023": a seashore taken in 2023), as every word must.
    when = tuple(date.term for date in parsed.dates)
    parsed.expansions += [Expansion(term, "meaning", score, when) for term, score in chosen]


def _adds_meaning(required: list[str], words: list[str]) -> bool:
    """Whether a label close in meaning brings in pictures the words typed would not, without dropping a word:
    not "beach" for "beach sunset" (that only loosens the query), nor "hot dog" for "dog" (found by the word)."""
    drops_a_word = set(words) <= set(required)
    found_anyway = all(any(word.startswith(typed) for word in words) for typed in required)
    # Keeping one typed word and swapping another names a sibling: "street sign" is not a "hotel sign".
    swaps_a_word = bool(set(words) & set(required)) and not set(required) <= set(words)
    return not (drops_a_word or found_anyway or swaps_a_word)
