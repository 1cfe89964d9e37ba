"""One place for each setting: the notebooks' defaults are the demo, profiles set what differs, and
`params` says where every value comes from."""

import re
import subprocess
import sys

import yaml

from galaxysd import parameters
from galaxysd.parameters import PROFILES_DIR, available_profiles, load_profile, plan_run


def test_demo_profile_sets_nothing_because_the_notebook_defaults_are_the_demo():
    assert load_profile("demo")["notebooks"] == {}
    for plan in plan_run("demo"):
        origins = {k: v for k, v in plan.origins.items() if k != "profile"}
        assert set(origins.values()) == {"notebook default"}, plan.name


def test_every_value_a_shipped_profile_sets_is_on_its_own_line_with_a_comment():
    for name in available_profiles():
        text = (PROFILES_DIR / f"{name}.yaml").read_text()
        set_here = yaml.safe_load(text)["notebooks"] or {}
        keyed = {m.group(1): line for line in text.splitlines() if (m := re.match(r"^    (\w+):", line))}
        for notebook, values in set_here.items():
            for key in values:
                assert key in keyed, f"{name}.yaml: {notebook}.{key} is not in block style"
                assert "#" in keyed[key], f"{name}.yaml: {notebook}.{key} has no comment"


def test_smoke_sets_only_values_that_differ_from_the_notebook_defaults():
    content = load_profile("smoke")["notebooks"]
    for plan in plan_run("smoke"):
        for key, value in content.get(plan.name, {}).items():
            assert plan.declared[key].default != value, f"smoke sets {plan.name}.{key} to its default"


def test_params_command_says_where_each_value_comes_from():
    out = subprocess.run([sys.executable, "-m", "galaxysd", "params", "01_data", "--profile", "paper",
                          "--set", "01_data.seed=5"], capture_output=True, text=True, check=True).stdout
    assert "profile = 'paper'  [str]  from runner" in out
    assert "real_data = True  [bool]  from profile 'paper'" in out
    assert "seed = 5  [int]  from command line" in out
    assert "votes_inclusive = False  [bool]  from notebook default" in out


def test_params_command_reads_a_users_own_profile_folder(tmp_path):
    (tmp_path / "mine.yaml").write_text("description: mine\nnotebooks:\n  03_generate:\n    steps: 7  # mine\n")
    out = subprocess.run([sys.executable, "-m", "galaxysd", "params", "03", "--profile", "mine",
                          "--profiles-dir", str(tmp_path)], capture_output=True, text=True, check=True).stdout
    assert "steps = 7  [int]  from profile 'mine'" in out


def test_the_example_override_in_the_help_is_one_the_runner_accepts():
    """The parameter is `guidance`; `guidance_scale` was once in the help and is rejected."""
    from galaxysd import __main__ as cli

    examples = re.findall(r"--set (\S+=\S+)", cli.__doc__ + parameters.__doc__ + (parameters.parse_override.__doc__ or ""))
    assert examples
    for example in examples:
        plan_run("demo", only=[example.split(".")[0]], overrides=[example])
