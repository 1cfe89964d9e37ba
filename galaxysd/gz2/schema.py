"""The Galaxy Zoo 2 schema: tasks, answers, the decision tree, thresholds and the Hart16 columns.

Everything here is data about GZ2 itself (Willett et al. 2013; Hart et al. 2016), with no I/O:

- :data:`TASKS` lists the 11 tasks in file order, each with its answers' Hart16 column stems;
- :data:`TREE` says where each answer leads (Willett et al. 2013, Table 2);
- :data:`THRESHOLDS` holds the preceding-answer fractions a task needs to be well sampled
  (Willett et al. 2013, Table 3, N >= 20 column);
- :func:`hart16_columns` gives the 231 columns of the Hart et al. (2016) table in file order.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The six per-answer columns of the Hart16 table, in file order.
ANSWER_SUFFIXES = ("count", "weight", "fraction", "weighted_fraction", "debiased", "flag")

#: The columns before the 37 answer blocks, in file order (column 7 is ``gz2class`` in the
#: description file and ``gz2_class`` in the CSV; loaders accept both and use ``gz2_class``).
META_COLUMNS = ("dr7objid", "ra", "dec", "rastring", "decstring", "sample", "gz2_class",
                "total_classifications", "total_votes")


@dataclass(frozen=True)
class Answer:
    """One answer of a GZ2 task.

    Attributes
    ----------
    task : str
        Task stem, e.g. ``"t03_bar"``.
    stem : str
        Answer stem, e.g. ``"a06_bar"``.
    label : str
        Short human label, e.g. ``"bar"``.
    leads_to : str or None
        The task this answer leads to, or ``None`` for the end of the tree.
    """

    task: str
    stem: str
    label: str
    leads_to: str | None

    @property
    def column(self) -> str:
        """Column stem in the Hart16 table, e.g. ``"t03_bar_a06_bar"``."""
        return f"{self.task}_{self.stem}"

    def col(self, suffix: str) -> str:
        """One of the answer's six Hart16 columns, e.g. ``col("debiased")``."""
        return f"{self.column}_{suffix}"


@dataclass(frozen=True)
class Task:
    """One GZ2 task (question).

    Attributes
    ----------
    stem : str
        Task stem, e.g. ``"t01_smooth_or_features"``.
    number : int
        Task number, 1 to 11.
    question : str
        The question as volunteers saw it.
    short : str
        A short name for figures.
    answers : tuple of Answer
        The task's answers in file order.
    """

    stem: str
    number: int
    question: str
    short: str
    answers: tuple[Answer, ...]


def _task(stem, question, short, answers):
    number = int(stem[1:3])
    return Task(stem, number, question, short,
                tuple(Answer(stem, a, label, nxt) for a, label, nxt in answers))


_END = None
#: The 11 GZ2 tasks in file order, with answers, labels and where each answer leads.
TASKS: tuple[Task, ...] = (
    _task("t01_smooth_or_features", "Is the galaxy simply smooth and rounded, with no sign of a disk?",
          "smooth or features", [("a01_smooth", "smooth", "t07_rounded"),
                                 ("a02_features_or_disk", "features or disk", "t02_edgeon"),
                                 ("a03_star_or_artifact", "star or artifact", _END)]),
    _task("t02_edgeon", "Could this be a disk viewed edge-on?", "edge-on",
          [("a04_yes", "yes", "t09_bulge_shape"), ("a05_no", "no", "t03_bar")]),
    _task("t03_bar", "Is there a sign of a bar feature through the centre of the galaxy?", "bar",
          [("a06_bar", "bar", "t04_spiral"), ("a07_no_bar", "no bar", "t04_spiral")]),
    _task("t04_spiral", "Is there any sign of a spiral arm pattern?", "spiral",
          [("a08_spiral", "spiral", "t10_arms_winding"), ("a09_no_spiral", "no spiral", "t05_bulge_prominence")]),
    _task("t05_bulge_prominence", "How prominent is the central bulge, compared with the rest of the galaxy?",
          "bulge prominence", [("a10_no_bulge", "no bulge", "t06_odd"),
                               ("a11_just_noticeable", "just noticeable", "t06_odd"),
                               ("a12_obvious", "obvious", "t06_odd"),
                               ("a13_dominant", "dominant", "t06_odd")]),
    _task("t06_odd", "Is there anything odd?", "odd",
          [("a14_yes", "yes", "t08_odd_feature"), ("a15_no", "no", _END)]),
    _task("t07_rounded", "How rounded is it?", "roundedness",
          [("a16_completely_round", "completely round", "t06_odd"),
           ("a17_in_between", "in between", "t06_odd"),
           ("a18_cigar_shaped", "cigar-shaped", "t06_odd")]),
    _task("t08_odd_feature", "Is the odd feature a ring, or is the galaxy disturbed or irregular?",
          "odd feature", [("a19_ring", "ring", _END), ("a20_lens_or_arc", "lens or arc", _END),
                          ("a21_disturbed", "disturbed", _END), ("a22_irregular", "irregular", _END),
                          ("a23_other", "other", _END), ("a24_merger", "merger", _END),
                          ("a38_dust_lane", "dust lane", _END)]),
    _task("t09_bulge_shape", "Does the galaxy have a bulge at its centre? If so, what shape?", "bulge shape",
          [("a25_rounded", "rounded", "t06_odd"), ("a26_boxy", "boxy", "t06_odd"),
           ("a27_no_bulge", "no bulge", "t06_odd")]),
    _task("t10_arms_winding", "How tightly wound do the spiral arms appear?", "arms winding",
          [("a28_tight", "tight", "t11_arms_number"), ("a29_medium", "medium", "t11_arms_number"),
           ("a30_loose", "loose", "t11_arms_number")]),
    _task("t11_arms_number", "How many spiral arms are there?", "arms number",
          [("a31_1", "1", "t05_bulge_prominence"), ("a32_2", "2", "t05_bulge_prominence"),
           ("a33_3", "3", "t05_bulge_prominence"), ("a34_4", "4", "t05_bulge_prominence"),
           ("a36_more_than_4", "more than 4", "t05_bulge_prominence"),
           ("a37_cant_tell", "can't tell", "t05_bulge_prominence")]),
)

#: Tasks by stem.
TASK_BY_STEM: dict[str, Task] = {t.stem: t for t in TASKS}
#: All 37 answers in file order.
ANSWERS: tuple[Answer, ...] = tuple(a for t in TASKS for a in t.answers)
#: Answers by their Hart16 column stem (``"t03_bar_a06_bar"``).
ANSWER_BY_COLUMN: dict[str, Answer] = {a.column: a for a in ANSWERS}


def answer(task: str, stem: str) -> Answer:
    """Look up an answer by task and answer stem, e.g. ``answer("t03_bar", "a06_bar")``."""
    for a in TASK_BY_STEM[task].answers:
        if a.stem == stem:
            return a
    raise KeyError(f"task {task} has no answer {stem}")


#: Decision tree edges: (task, answer stem) -> next task or None (Willett et al. 2013, Table 2).
TREE: dict[tuple[str, str], str | None] = {(a.task, a.stem): a.leads_to for a in ANSWERS}

#: Willett et al. (2013) Table 3 thresholds for N >= 20 votes: each task lists the preceding answers
#: (as Hart16 column stems) whose *weighted* vote fraction must pass for the task to be well sampled.
#: Tasks 01 and 06 are asked in every classification and have no preceding condition.
#: The 0.430 condition of task 09 is not in Willett's table; it follows by analogy with task 02.
THRESHOLDS: dict[str, tuple[tuple[str, float], ...]] = {
    "t01_smooth_or_features": (),
    "t02_edgeon": (("t01_smooth_or_features_a02_features_or_disk", 0.430),),
    "t03_bar": (("t01_smooth_or_features_a02_features_or_disk", 0.430), ("t02_edgeon_a05_no", 0.715)),
    "t04_spiral": (("t01_smooth_or_features_a02_features_or_disk", 0.430), ("t02_edgeon_a05_no", 0.715)),
    "t05_bulge_prominence": (("t01_smooth_or_features_a02_features_or_disk", 0.430),
                             ("t02_edgeon_a05_no", 0.715)),
    "t06_odd": (),
    "t07_rounded": (("t01_smooth_or_features_a01_smooth", 0.469),),
    "t08_odd_feature": (("t06_odd_a14_yes", 0.420),),
    "t09_bulge_shape": (("t01_smooth_or_features_a02_features_or_disk", 0.430), ("t02_edgeon_a04_yes", 0.602)),
    "t10_arms_winding": (("t01_smooth_or_features_a02_features_or_disk", 0.430), ("t02_edgeon_a05_no", 0.715),
                         ("t04_spiral_a08_spiral", 0.619)),
    "t11_arms_number": (("t01_smooth_or_features_a02_features_or_disk", 0.430), ("t02_edgeon_a05_no", 0.715),
                        ("t04_spiral_a08_spiral", 0.619)),
}


def parent_task(task: str) -> str | None:
    """The task whose answer leads to ``task`` on its main branch (for drawing the tree).

    Task 05 is reached from 04 ("no spiral") and 11; task 06 from several. The first parent in file
    order is returned; ``None`` for task 01.
    """
    for a in ANSWERS:
        if a.leads_to == task:
            return a.task
    return None


def hart16_columns() -> list[str]:
    """The 231 columns of the Hart et al. (2016) table, in file order.

    Returns
    -------
    list of str
        ``META_COLUMNS`` followed by six columns (:data:`ANSWER_SUFFIXES`) per answer.

    Examples
    --------
    >>> len(hart16_columns())
    231
    """
    cols = list(META_COLUMNS)
    for a in ANSWERS:
        cols.extend(a.col(s) for s in ANSWER_SUFFIXES)
    return cols


def task_count_columns(task: str) -> list[str]:
    """The ``_count`` columns of a task's answers (a task's vote total is their sum)."""
    return [a.col("count") for a in TASK_BY_STEM[task].answers]
