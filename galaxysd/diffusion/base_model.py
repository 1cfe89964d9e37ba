"""Which model fine-tuning starts from, checked before anything is computed.

Chapter 02 starts from ``"tiny"`` (a small model of Stable Diffusion's architecture built here),
a local diffusers folder, or a Hugging Face Hub id such as :data:`SD15_HUB_ID`.
:func:`check_base_model` finds out in a second whether that model is there, and otherwise says in
one message what is wrong and the three ways on, rather than failing after the image check and the
latent cache.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from galaxysd.diffusion.model import trained_model_path
from galaxysd.errors import ParameterError

#: Stable Diffusion v1.5 on the Hugging Face Hub.
SD15_HUB_ID = "stable-diffusion-v1-5/stable-diffusion-v1-5"


_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def _base_model_help(value: str, problem: str) -> str:
    return (f"base model {value!r}: {problem}. Three ways on:\n"
            f"  1. download Stable Diffusion v1.5 from the Hugging Face Hub (about 5 GB, once, needs internet): "
            f"--set 02_finetune.base_model={SD15_HUB_ID} (or fetch it ahead with "
            f"`hf download {SD15_HUB_ID}`);\n"
            f"  2. a local diffusers folder holding model_index.json: "
            f"--set 02_finetune.base_model=/path/to/stable-diffusion-v1-5;\n"
            f"  3. a dry run of the same code on a tiny model trained from scratch on the CPU: "
            f"--set 02_finetune.base_model=tiny")


def check_base_model(base_model: str | os.PathLike, offline: bool | None = None,
                     cache_dir: str | os.PathLike | None = None) -> str:
    """Pre-flight check of chapter 02's base model, before anything is computed.

    Parameters
    ----------
    base_model : str or path-like
        ``"tiny"``, a local diffusers folder (or a run folder whose ``02_finetune`` has finished), or a
        Hugging Face Hub id such as :data:`SD15_HUB_ID`.
    offline : bool, optional
        Whether the Hub may be reached (default: not when ``HF_HUB_OFFLINE`` is set).
    cache_dir : path-like, optional
        The Hub's cache folder (default: huggingface_hub's).

    Returns
    -------
    str
        ``"tiny"``, the folder as an absolute path, or the Hub id.

    Raises
    ------
    ParameterError
        One message that says what is wrong (a folder without a model, a path that does not exist, a
        Hub model that is neither cached nor downloadable) and names the three ways on: the Hub id
        to download, a local diffusers folder, or ``tiny``.

    Examples
    --------
    >>> check_base_model("tiny")
    'tiny'
    """
    value = str(base_model)
    if value == "tiny":
        return value
    path = Path(value).expanduser()
    if path.exists():
        if (path / "model_index.json").is_file() or (trained_model_path(path) / "model_index.json").is_file():
            return str(path.resolve())
        raise ParameterError(_base_model_help(value, f"the folder {path.resolve()} holds no diffusers model "
                                                     f"(no model_index.json)"))
    if not _HUB_ID.match(value) or value.startswith(".") or path.is_absolute():
        raise ParameterError(_base_model_help(value, f"there is no folder {path.resolve()} (relative paths are "
                                                     f"read from the folder the command is run in)"))
    from huggingface_hub import constants, file_exists, try_to_load_from_cache

    cached = try_to_load_from_cache(value, "model_index.json", cache_dir=cache_dir)
    if isinstance(cached, str):
        return value
    if offline is None:
        offline = bool(constants.HF_HUB_OFFLINE) or os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true",
                                                                                                        "yes", "on")
    if offline:
        raise ParameterError(_base_model_help(value, "it is not in the Hugging Face cache and downloads are "
                                                     "switched off (HF_HUB_OFFLINE is set)"))
    try:
        found = file_exists(value, "model_index.json")
    except Exception as exc:  # any network or Hub error means the same to the user: not reachable
        raise ParameterError(_base_model_help(value, f"the Hugging Face Hub cannot be reached ({exc})")) from exc
    if not found:
        raise ParameterError(_base_model_help(value, "the Hugging Face Hub has no diffusers model of that id"))
    return value


