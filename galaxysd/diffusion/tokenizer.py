"""The small CLIP tokenizer that the tiny (smoke/demo) model ships with.

Stable Diffusion's CLIP tokenizer has 49,408 byte-pair-encoding (BPE) tokens; downloading it is not an
option for the offline profiles, and a tiny text encoder does not need it. This module writes a
tokenizer in exactly the same format (``vocab.json`` + ``merges.txt``, loaded by
:class:`transformers.CLIPTokenizer`): the 256 byte symbols, the same with the end-of-word marker
``</w>``, one merge chain per word of the caption vocabulary (so every caption word is a single
token), and the two special tokens. A word outside the vocabulary still tokenizes, as characters.

The files are committed under ``galaxysd/assets/tokenizer/``; :func:`write_tokenizer_files`
regenerates them (``python -m galaxysd.diffusion.tokenizer``).
"""

from __future__ import annotations

import json
from pathlib import Path

from galaxysd.paths import PACKAGE_DIR

TOKENIZER_DIR = PACKAGE_DIR / "assets" / "tokenizer"
BOS, EOS = "<|startoftext|>", "<|endoftext|>"

#: Words of GZ2 tags, captions and prompts (Table 1 of the paper, the decision tree's answers), then
#: those of the web collection's plain-language captions that the first lack.
CAPTION_WORDS = """
sdss smooth completely round rounded in between cigar shaped shape galaxy galaxies edge on with
bulge boxy no bar structure the center centre of spiral arm arms loosely loose wound tightly tight
medium just noticeable obvious dominant central prominence ring merger dust lane disturbed irregular
lens or arc other feature features disk number can more than four can't tell one two three odd and a an star artifact
elliptical early late type dusty blue red face compact extended bright faint
""".split() + """
photo image picture telescope astronomy crossed by dark seen almost perfectly giant oval slightly flattened
elongated very lenticular without clumpy small prominent cut band bright merging companion colliding
another looking wound moderately many
""".split()  # the plain-language captions of the demo's web collection (gz2.simulate.web_captions.WEB_WORDS)


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's reversible map from the 256 byte values to printable unicode characters."""
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
                 + list(range(ord("®"), ord("ÿ") + 1)))
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, (chr(c) for c in chars)))


def build_vocab_and_merges(words=CAPTION_WORDS) -> tuple[dict[str, int], list[str]]:
    """Vocabulary and merge list of a CLIP-format BPE tokenizer with one token per caption word.

    Parameters
    ----------
    words : iterable of str
        Lower-case words; each becomes a single token (with the ``</w>`` end-of-word marker).

    Returns
    -------
    vocab : dict
        Token to id; ids 0-511 are the byte symbols (plain and end-of-word), then merge results, then
        ``<|startoftext|>`` and ``<|endoftext|>``.
    merges : list of str
        ``"left right"`` pairs in priority order.

    Examples
    --------
    >>> vocab, merges = build_vocab_and_merges(["galaxy"])
    >>> "galaxy</w>" in vocab
    True
    """
    byte_chars = list(_bytes_to_unicode().values())
    vocab_list = byte_chars + [c + "</w>" for c in byte_chars]
    known = set(vocab_list)
    merges: list[str] = []
    byte_map = _bytes_to_unicode()
    ranks: dict[tuple[str, str], int] = {}
    for word in dict.fromkeys(w.lower() for w in words):
        # The CLIP pre-tokenizer splits letters from punctuation; keep only letter runs as words.
        for piece in _letter_runs(word):
            symbols = [byte_map[b] for b in piece.encode("utf-8")]
            symbols[-1] += "</w>"
            # Segment with the merges so far (they outrank any new one), then join the segments
            # left to right with new, lower-priority merges.
            symbols = _apply_bpe(symbols, ranks)
            left = symbols[0]
            for right in symbols[1:]:
                merged = left + right
                if (left, right) not in ranks:
                    ranks[(left, right)] = len(merges)
                    merges.append(f"{left} {right}")
                if merged not in known:
                    vocab_list.append(merged)
                    known.add(merged)
                left = merged
    vocab_list += [BOS, EOS]
    return {token: i for i, token in enumerate(vocab_list)}, merges


def _apply_bpe(symbols: list[str], ranks: dict[tuple[str, str], int]) -> list[str]:
    """Byte-pair encoding of one word: repeatedly join the adjacent pair of lowest merge rank."""
    symbols = list(symbols)
    while len(symbols) > 1:
        pairs = [(ranks.get(pair, None), i) for i, pair in enumerate(zip(symbols, symbols[1:]))]
        pairs = [(r, i) for r, i in pairs if r is not None]
        if not pairs:
            break
        _, i = min(pairs)
        symbols[i:i + 2] = [symbols[i] + symbols[i + 1]]
    return symbols


def _letter_runs(word: str) -> list[str]:
    runs, current = [], ""
    for ch in word:
        if ch.isalpha():
            current += ch
        else:
            if current:
                runs.append(current)
            current = ""
    if current:
        runs.append(current)
    return runs


def write_tokenizer_files(folder: str | Path = TOKENIZER_DIR, words=CAPTION_WORDS) -> Path:
    """Write ``vocab.json`` and ``merges.txt`` of the project tokenizer into ``folder``.

    Parameters
    ----------
    folder : str or path-like
        Destination folder (created).
    words : iterable of str
        Caption vocabulary.

    Returns
    -------
    pathlib.Path
        The folder.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocab, merges = build_vocab_and_merges(words)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=0) + "\n",
                                       encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    return folder


def load_tokenizer(folder: str | Path = TOKENIZER_DIR, model_max_length: int = 77):
    """The project's CLIP tokenizer (77 tokens, padded with ``<|endoftext|>`` as in SD v1.5).

    Parameters
    ----------
    folder : str or path-like, optional
        Folder holding ``vocab.json`` and ``merges.txt``; defaults to the shipped one.
    model_max_length : int, optional
        Context length in tokens.

    Returns
    -------
    transformers.CLIPTokenizer
    """
    from transformers import CLIPTokenizer

    folder = Path(folder)
    return CLIPTokenizer.from_pretrained(str(folder), model_max_length=model_max_length)


if __name__ == "__main__":
    print(write_tokenizer_files())
