"""Which prompts make a task's generated positives, the plan they are drawn from, and the run plan."""

import pytest

from galaxysd.classify import generated as gen
from galaxysd.errors import ParameterError, PromptError
from galaxysd.stages import s06_classification as s06


def test_every_default_task_prompt_names_the_tasks_confident_tag():
    for task, letters in gen.TASK_PROMPTS.items():
        assert list(gen.task_prompts(task, letters)) == list(letters)


def test_a_prompt_without_the_tasks_tag_is_a_named_error():
    with pytest.raises(PromptError, match="'A'.*task 'spiral'.*spiral galaxy"):
        gen.task_prompts("spiral", "FA")
    with pytest.raises(PromptError, match="task 'bulge'"):
        gen.task_prompts("bulge", "I")  # "just noticeable" is not an obvious or dominant bulge
    with pytest.raises(ParameterError, match="Z"):
        gen.task_prompts("bar", "MZ")


def test_plan_takes_prompts_in_turn_and_a_smaller_plan_is_the_start_of_a_larger_one():
    prompts = gen.task_prompts("disk", "CN")
    small = gen.plan_positives(prompts, 3, seed=0, references=[1, 2, 3])
    large = gen.plan_positives(prompts, 6, seed=0, references=[1, 2, 3])
    assert list(large["label"]) == ["C", "N"] * 3
    assert large.head(3).equals(small)
    assert set(large["reference_id"]) <= {1, 2, 3}


def test_asking_for_more_generated_positives_than_were_planned_is_a_named_error():
    plan = gen.plan_positives(gen.task_prompts("bar", "M"), 4, seed=0, references=[7])
    assert len(gen.select_generated(plan, 4, "bar")) == 4
    with pytest.raises(ParameterError, match="'bar': 5 generated positives asked for.*only 4"):
        gen.select_generated(plan, 5, "bar")


def test_run_plan_has_every_method_and_multiple_for_every_seed():
    plan = s06.run_plan([0, 1, 2], [1.0, 2.0], ours=1.0)
    assert len(plan) == 3 * 4 and plan["run"].is_unique
    assert set(plan.loc[plan["method"] == "augmented", "multiple"]) == {1.0, 2.0}
    assert set(plan.loc[plan["method"] == "focal", "loss"]) == {"focal"}
    with pytest.raises(ParameterError, match="ours_multiple=3"):
        s06.run_plan([0], [1.0, 2.0], ours=3.0)


def _differences(base, ours, low, high, verdict, multiple=1.0):
    import pandas as pd

    return pd.DataFrame([dict(task="spiral", method="augmented", multiple=multiple, against="label", score="f1",
                              a=base, b=ours, difference=ours - base, low=low, high=high, level=0.95,
                              n_seeds=3, n_galaxies=1885, verdict=verdict)])


def test_a_verdict_sentence_reads_the_paired_interval_of_ours_at_its_multiple():
    assert "raise F1" in s06.verdicts(_differences(0.50, 0.70, 0.1, 0.3, "better"), 1.0)["verdict_spiral"]
    assert "too small" in s06.verdicts(_differences(0.50, 0.56, -0.02, 0.14, "too small to tell"), 1.0)["verdict_spiral"]
    assert "lower F1" in s06.verdicts(_differences(0.70, 0.40, -0.4, -0.2, "worse"), 1.0)["verdict_spiral"]
    # only the row of ours' multiple speaks for ours
    assert s06.verdicts(_differences(0.50, 0.70, 0.1, 0.3, "better", multiple=0.5), 1.0) == {}
