"""Stable Diffusion v1.5's real CLIP tokenizer (49,408 byte-pair tokens), built without downloading SD.

SD v1.5 tokenizes with OpenAI CLIP's byte-pair encoding (BPE). Its vocabulary ships inside the
``open_clip_torch`` wheel on PyPI as ``open_clip/bpe_simple_vocab_16e6.txt.gz``: one merge per line.
:func:`clip_bpe_file` fetches that wheel with ``pip download --no-deps`` (installing open_clip is not
an option: it depends on torchvision) into a cache folder, extracts the one file and checks its
SHA-256. :func:`write_clip_tokenizer` derives ``vocab.json`` and ``merges.txt`` from it in the format
:class:`transformers.CLIPTokenizer` reads.

The derivation is written here by hand because no library exposes it without torchvision: open_clip's
``SimpleTokenizer`` does exactly this at import time (the same slicing of the merge list, the same
vocabulary order), and ``transformers`` only reads the two finished files. The order is fixed: the
256 byte symbols (GPT-2's byte-to-unicode order), the same with the end-of-word marker ``</w>``,
one token per merge, then ``<|startoftext|>`` (49406) and ``<|endoftext|>`` (49407).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from galaxysd.cache import atomic_path
from galaxysd.diffusion.tokenizer import BOS, EOS, _bytes_to_unicode
from galaxysd.errors import DataError

#: The wheel the vocabulary is taken from, pinned so that the file is the same everywhere.
OPEN_CLIP_WHEEL = "open_clip_torch==3.3.0"
#: The vocabulary file inside the wheel and its SHA-256.
BPE_MEMBER = "open_clip/bpe_simple_vocab_16e6.txt.gz"
BPE_SHA256 = "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a"
#: CLIP's vocabulary size: 256 bytes x 2 + 48,894 merges + 2 special tokens.
CLIP_VOCAB_SIZE = 49408
#: Merges CLIP keeps from the file (its first line is a header).
N_MERGES = 49152 - 256 - 2


def _cache_dir() -> Path:
    base = os.environ.get("GALAXYSD_CACHE") or Path.home() / ".cache" / "galaxysd"
    return Path(base) / "clip_bpe"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def clip_bpe_file(cache_dir: str | os.PathLike | None = None) -> Path:
    """CLIP's BPE vocabulary file ``bpe_simple_vocab_16e6.txt.gz``, fetched once and verified.

    The file is looked up in ``GALAXYSD_CLIP_BPE`` (a path to it) or the cache folder; otherwise the
    pinned ``open_clip_torch`` wheel is downloaded with ``pip download --no-deps`` (nothing is
    installed) and the file is extracted from it.

    Parameters
    ----------
    cache_dir : path-like, optional
        Where the file is kept (default ``$GALAXYSD_CACHE/clip_bpe`` or ``~/.cache/galaxysd/clip_bpe``).

    Returns
    -------
    pathlib.Path
        The ``.txt.gz`` file, whose SHA-256 is :data:`BPE_SHA256`.

    Raises
    ------
    DataError
        If pip cannot download the wheel, or a file has another checksum; the message names the file
        and how to provide it by hand.

    Examples
    --------
    >>> clip_bpe_file().name  # doctest: +SKIP
    'bpe_simple_vocab_16e6.txt.gz'
    """
    given = os.environ.get("GALAXYSD_CLIP_BPE")
    folder = Path(cache_dir) if cache_dir else _cache_dir()
    target = Path(given) if given else folder / "bpe_simple_vocab_16e6.txt.gz"
    how = (f"download {OPEN_CLIP_WHEEL} by hand (`pip download {OPEN_CLIP_WHEEL} --no-deps -d DIR`), "
           f"unzip {BPE_MEMBER} from it and set GALAXYSD_CLIP_BPE=/path/to/bpe_simple_vocab_16e6.txt.gz")
    if target.is_file():
        if _sha256(target) != BPE_SHA256:
            raise DataError(f"{target}: SHA-256 {_sha256(target)} is not CLIP's vocabulary ({BPE_SHA256}); "
                            f"delete it to download it again, or {how}")
        return target
    if given:
        raise DataError(f"GALAXYSD_CLIP_BPE={given}: no such file; {how}")
    folder.mkdir(parents=True, exist_ok=True)
    wheels = folder / "wheel"
    cmd = [sys.executable, "-m", "pip", "download", OPEN_CLIP_WHEEL, "--no-deps", "--quiet", "-d", str(wheels)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    found = sorted(wheels.glob("open_clip_torch-*.whl"))
    if done.returncode or not found:
        raise DataError(f"`{' '.join(cmd)}` failed ({done.stderr.strip()[-400:]}); {how}")
    with zipfile.ZipFile(found[-1]) as wheel, atomic_path(target) as tmp:
        Path(tmp).write_bytes(wheel.read(BPE_MEMBER))
    if _sha256(target) != BPE_SHA256:
        bad = _sha256(target)
        target.unlink()
        raise DataError(f"{found[-1]}: {BPE_MEMBER} has SHA-256 {bad}, not CLIP's {BPE_SHA256}; {how}")
    return target


def clip_vocab_and_merges(bpe_path: str | os.PathLike | None = None) -> tuple[dict[str, int], list[str]]:
    """CLIP's vocabulary and merge list, derived from its BPE file as open_clip does.

    Parameters
    ----------
    bpe_path : path-like, optional
        ``bpe_simple_vocab_16e6.txt.gz`` (default: :func:`clip_bpe_file`).

    Returns
    -------
    vocab : dict
        Token to id, 49,408 entries.
    merges : list of str
        ``"left right"`` pairs in priority order (48,894).

    Examples
    --------
    >>> vocab, merges = clip_vocab_and_merges()  # doctest: +SKIP
    >>> len(vocab)  # doctest: +SKIP
    49408
    """
    path = Path(bpe_path) if bpe_path else clip_bpe_file()
    lines = gzip.open(path, "rt", encoding="utf-8").read().split("\n")
    merges = lines[1:N_MERGES + 1]
    symbols = list(_bytes_to_unicode().values())
    tokens = symbols + [s + "</w>" for s in symbols] + ["".join(m.split()) for m in merges] + [BOS, EOS]
    vocab = {token: i for i, token in enumerate(tokens)}
    if len(vocab) != CLIP_VOCAB_SIZE:
        raise DataError(f"{path}: derived {len(vocab)} tokens, CLIP has {CLIP_VOCAB_SIZE}; the file is not "
                        f"CLIP's vocabulary")
    return vocab, merges


def write_clip_tokenizer(folder: str | os.PathLike, bpe_path: str | os.PathLike | None = None) -> Path:
    """Write SD v1.5's tokenizer folder (``vocab.json``, ``merges.txt``, its two configs).

    Parameters
    ----------
    folder : path-like
        Destination (created); ``CLIPTokenizer.from_pretrained(folder)`` loads it.
    bpe_path : path-like, optional
        CLIP's BPE file (default: :func:`clip_bpe_file`).

    Returns
    -------
    pathlib.Path
        The folder.

    Examples
    --------
    >>> write_clip_tokenizer("sd15/tokenizer")  # doctest: +SKIP
    """
    folder = Path(folder)
    vocab, merges = clip_vocab_and_merges(bpe_path)
    files = {
        "vocab.json": json.dumps(vocab, ensure_ascii=False) + "\n",
        "merges.txt": "#version: 0.2\n" + "\n".join(merges) + "\n",
        # SD v1.5's tokenizer/ folder: 77 tokens, padded with <|endoftext|>, lower-cased by the BPE.
        "tokenizer_config.json": json.dumps(dict(
            tokenizer_class="CLIPTokenizer", model_max_length=77, do_lower_case=True, errors="replace",
            bos_token=BOS, eos_token=EOS, unk_token=EOS, pad_token=EOS, add_prefix_space=False), indent=2),
        "special_tokens_map.json": json.dumps(dict(bos_token=BOS, eos_token=EOS, unk_token=EOS,
                                                   pad_token=EOS), indent=2),
    }
    with atomic_path(folder) as tmp:  # the whole folder or nothing
        Path(tmp).mkdir()
        for name, text in files.items():
            (Path(tmp) / name).write_text(text, encoding="utf-8")
    return folder


def load_clip_tokenizer(cache_dir: str | os.PathLike | None = None):
    """SD v1.5's CLIP tokenizer, derived once into the cache folder.

    Parameters
    ----------
    cache_dir : path-like, optional
        Cache folder (as :func:`clip_bpe_file`).

    Returns
    -------
    transformers.CLIPTokenizer
        49,408 tokens, 77 positions.

    Examples
    --------
    >>> load_clip_tokenizer()("a photo of a cat").input_ids  # doctest: +SKIP
    [49406, 320, 1125, 539, 320, 2368, 49407]
    """
    from transformers import CLIPTokenizer

    folder = (Path(cache_dir) if cache_dir else _cache_dir()) / "tokenizer"
    if not (folder / "vocab.json").is_file():
        write_clip_tokenizer(folder, clip_bpe_file(cache_dir))
    return CLIPTokenizer.from_pretrained(str(folder))
