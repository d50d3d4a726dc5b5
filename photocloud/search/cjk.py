"""Chinese, Japanese and Korean words.

These scripts do not put spaces between words, so a run of characters is one token to a simple tokenizer and only a
query typed as the whole run would find it. Chinese is cut into words by jieba in search mode, which gives the long
words and the shorter words inside them ("会议通知" gives 会议, 通知 and, when its dictionary knows it, the whole), so
a word found anywhere in a name, description, tag or text read from a picture matches; kana and hangul are indexed as
overlapping pairs of characters, as Lucene's CJK analyser does. Documents and queries are cut the same way.
"""

import logging
import re
import threading
from functools import cache, lru_cache

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
KANA_HANGUL = "\u3040-\u30ff\u31f0-\u31ff\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"
ANY = re.compile(f"[{HAN}{KANA_HANGUL}]")
RUNS = re.compile(f"([{HAN}]+)|([{KANA_HANGUL}]+)|([^{HAN}{KANA_HANGUL}]+)")

_jieba_lock = threading.Lock()


def has_cjk(text: str) -> bool:
    return not text.isascii() and ANY.search(text) is not None


def words(token: str) -> list[str]:
    """The words of one token (letters and digits only): Chinese cut by jieba, kana and hangul in pairs of
    characters, anything else whole."""
    found = []
    for han, kana_hangul, other in RUNS.findall(token):
        if han:
            found += _cut(han)
        elif kana_hangul:
            found += [kana_hangul[i : i + 2] for i in range(max(1, len(kana_hangul) - 1))]
        else:
            found.append(other)
    return found


@lru_cache(maxsize=16384)
def _cut(han: str) -> tuple[str, ...]:
    """The words of one run of Chinese characters, remembered: a library repeats its label names and phrases."""
    return tuple(word for word in _jieba().cut_for_search(han) if word.strip())


@cache
def _jieba():
    """jieba's tokenizer with its bundled dictionary, loaded once per process (about a second) and only when some
    Chinese text is met."""
    with _jieba_lock:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        return jieba.dt
