"""Counts words with a helper package of its own: a function with dependencies.

requirements.txt names ./textkit, a local source package: `faasctl fn deploy examples/wordfreq`
installs it into the function's image (no package index needed), and the code imports it.

Input:  {"text": "the cat and the hat", "top": 2}
Output: {"words": 5, "top": [["the", 2], ["and", 1]]}
"""
import textkit


def main(data):
    text = (data or {}).get("text", "")
    if not isinstance(text, str):
        raise ValueError('"text" must be a string')
    words = textkit.words(text)
    return {"words": len(words), "top": textkit.most_common(words, int((data or {}).get("top", 3)))}
