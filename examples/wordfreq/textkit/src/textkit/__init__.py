"""Word helpers: splitting text into words and counting them."""
import collections
import re

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def words(text):
    """The words of `text`, lower-cased (letters and inner apostrophes)."""
    return [w.lower() for w in _WORD.findall(text)]


def most_common(words, n):
    """The `n` most frequent words with their counts, ties in first-seen order."""
    return [[w, c] for w, c in collections.Counter(words).most_common(max(0, n))]
