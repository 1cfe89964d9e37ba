"""Generated positives for a binary task: which prompts, how many, drawn through the generation engine.

A task's generated positives come from prompts that name its positive answer (the spirals from the
spiral prompts of Table 1, the edge-on disks from the edge-on ones...). They are drawn round-robin
over the prompts, image to image from real reference galaxies, through the cached, sharded and
resumable engine of :mod:`galaxysd.diffusion.batch`; a sweep over how many are added takes the first
``n`` of one plan, so a smaller set is always part of a larger one.
"""

from __future__ import annotations

import math
import os
from typing import Mapping, Sequence

import pandas as pd

from galaxysd.errors import ParameterError, PromptError

#: Table 1 prompts (letters) that make each Table 2 task's generated positives. Spiral: every
#: spiral prompt without a merger (F-J); disk: the edge-on prompts without a dust lane (C, N); bar:
#: the bar prompt (M); bulge: the obvious-bulge spiral (J), Table 1's only prompt with a prominent bulge.
TASK_PROMPTS: dict[str, str] = {"spiral": "FGHIJ", "disk": "CN", "bar": "M", "bulge": "J"}


def _words(text: str) -> str:
    from galaxysd.gz2.prompts import prompt_words

    return " " + " ".join(prompt_words(text)) + " "


def positive_phrases(task: str) -> tuple[str, ...]:
    """The tag phrases of a Table 2 task's positive answers (e.g. ``("spiral galaxy",)``)."""
    from galaxysd.gz2.catalog import BINARY_TASKS
    from galaxysd.gz2.tags import TAG_PHRASES

    if task not in BINARY_TASKS:
        raise ParameterError(f"unknown task {task!r}; expected one of {sorted(BINARY_TASKS)}")
    return tuple(TAG_PHRASES[answer] for answer in BINARY_TASKS[task][0])


def check_prompts(task: str, prompts: Mapping[str, str], phrases: Sequence[str]) -> None:
    """Make sure every prompt names one of ``phrases`` (a confident tag of the task's positives).

    Raises
    ------
    PromptError
        Naming the task, the prompt and the phrases it should contain.

    Examples
    --------
    >>> check_prompts("bar", {"M": "sdss, bar-shaped structure in the center of galaxy"},
    ...               ["bar-shaped structure in the center of galaxy"])
    """
    wanted = [_words(p) for p in phrases]
    for label, prompt in prompts.items():
        if not any(w in _words(prompt) for w in wanted):
            raise PromptError(f"prompt {label!r} ({prompt!r}) has no confident tag of task {task!r}: it "
                              f"should contain one of {list(phrases)}")


def task_prompts(task: str, letters: str) -> dict[str, str]:
    """The Table 1 prompts ``letters`` for a Table 2 task, checked to name the task's positive tag.

    Raises
    ------
    ParameterError
        If ``letters`` is empty or holds a letter that is not a Table 1 prompt.
    PromptError
        If a prompt lacks the task's positive tag (:func:`check_prompts`).

    Examples
    --------
    >>> list(task_prompts("disk", "CN"))
    ['C', 'N']
    """
    from galaxysd.gz2.prompts import TABLE1_PROMPTS

    unknown = sorted(set(letters) - set(TABLE1_PROMPTS))
    if not letters or unknown:
        raise ParameterError(f"task {task!r}: prompt letters {letters!r} must be Table 1 letters A-P "
                             f"(unknown: {unknown})")
    prompts = {letter: TABLE1_PROMPTS[letter] for letter in letters}
    check_prompts(task, prompts, positive_phrases(task))
    return prompts


def plan_positives(prompts: Mapping[str, str], n: int, seed: int, references: Sequence[int]) -> pd.DataFrame:
    """A generation plan of ``n`` images taken round-robin over ``prompts``, each with a reference.

    Parameters
    ----------
    prompts : mapping
        Label -> prompt.
    n : int
        Images in all.
    seed : int
        Seed of the plan (see :func:`galaxysd.diffusion.plan.plan_samples`).
    references : sequence of int
        objIDs the image-to-image references are drawn from.

    Returns
    -------
    pandas.DataFrame
        The plan's rows, in the order :func:`select_generated` takes them.

    Examples
    --------
    >>> plan_positives({"M": "sdss, bar-shaped structure in the center of galaxy"}, 4, 0, [1, 2]).shape[0]
    4
    """
    from galaxysd.diffusion.plan import plan_samples

    if n < 0:
        raise ParameterError(f"number of generated positives must be >= 0, got {n}")
    per_prompt = math.ceil(n / max(len(prompts), 1))
    plan = plan_samples(prompts, per_prompt, seed, references=list(references))
    rank = {label: i for i, label in enumerate(prompts)}
    plan = plan.assign(_order=plan["label"].map(rank)).sort_values(["index", "_order"], kind="stable")
    return plan.drop(columns="_order").head(n).reset_index(drop=True)


def select_generated(generated: pd.DataFrame, n: int, task: str = "task") -> pd.DataFrame:
    """The first ``n`` generated images of a task, in plan order.

    Raises
    ------
    ParameterError
        If more are asked for than were planned and generated.
    """
    if n > len(generated):
        raise ParameterError(f"task {task!r}: {n} generated positives asked for, but the plan made only "
                             f"{len(generated)}; raise the largest multiple of generated positives")
    return generated.iloc[:n]


def generate_positives(run_dir: str | os.PathLike, name: str, inputs, prompts: Mapping[str, str], n: int,
                       seed: int, references: Sequence[int], settings, batch_size: int = 16) -> pd.DataFrame:
    """Generate a task's positives as the cached, resumable stage ``<run_dir>/<name>``.

    Parameters
    ----------
    run_dir : str or path-like
    name : str
        Stage name, e.g. ``"06_classification/generated/spiral"``.
    inputs : galaxysd.diffusion.batch.GenerationInputs
        The trained model and the real galaxies (their image paths are the references').
    prompts : mapping
        From :func:`task_prompts`.
    n : int
        Images to generate.
    seed : int
    references : sequence of int
        objIDs of the reference pool (a subset of ``inputs.reference_paths``).
    settings : galaxysd.diffusion.sample.SamplerSettings
        Image-to-image settings.
    batch_size : int, optional

    Returns
    -------
    pandas.DataFrame
        The merged manifest with absolute ``path`` per image, in plan order.

    Raises
    ------
    ParameterError
        If the reference pool is empty.
    """
    from galaxysd.diffusion import batch

    refs = [int(r) for r in references if int(r) in inputs.reference_paths]
    if not refs:
        raise ParameterError(f"stage {name}: no reference galaxies to draw from")
    plan = plan_positives(prompts, n, seed, refs)
    stage = batch.generation_stage(run_dir, name, inputs.model, plan, settings, inputs.reference_paths,
                                   batch_size, inputs=inputs.stage_inputs, progress=False)
    return batch.read_generated(stage.path)
