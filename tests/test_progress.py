"""Progress of long stages reaches the runner's terminal through a side channel, not the notebook."""

import io
import os
import subprocess
import sys

from galaxysd.progress import PROGRESS_ENV, ProgressRelay, newest_line, progress_bar


def test_bar_writes_to_the_side_channel_and_not_to_stderr(tmp_path, monkeypatch, capsys):
    channel = tmp_path / "progress.txt"
    monkeypatch.setenv(PROGRESS_ENV, str(channel))
    bar = progress_bar(range(4), desc="fine-tune", mininterval=0)
    for step in bar:
        bar.set_postfix(loss=f"{0.1 * step:.4f}", images_per_s="12.5")
    assert "fine-tune: 100%" in newest_line(channel.read_text())
    assert "loss=0.3000" in channel.read_text() and "images_per_s=12.5" in channel.read_text()
    assert capsys.readouterr().err == ""


def test_without_the_runner_the_bar_is_an_ordinary_one(monkeypatch, tmp_path):
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    assert list(progress_bar(range(3), disable=True)) == [0, 1, 2]
    assert not list(tmp_path.iterdir())


def test_relay_shows_the_newest_line_of_a_child_process_with_time_left(tmp_path):
    stream = io.StringIO()
    child = ("from galaxysd.progress import progress_bar\n"
             "for _ in progress_bar(range(50), desc='train', mininterval=0): pass\n")
    with ProgressRelay(tmp_path / ".02.progress", label="02_finetune", stream=stream, every=0.0, poll=0.05):
        subprocess.run([sys.executable, "-c", child], check=True, env=dict(os.environ))
    shown = stream.getvalue().strip().splitlines()
    assert shown and shown[-1].startswith("[02_finetune] train: 100%")
    assert "50/50" in shown[-1] and "<00:00" in shown[-1]  # elapsed<left
    assert PROGRESS_ENV not in os.environ and not (tmp_path / ".02.progress").exists()


def test_relay_writes_at_most_one_line_per_interval(tmp_path):
    stream = io.StringIO()
    relay = ProgressRelay(tmp_path / "p", stream=stream, every=3600.0)
    (tmp_path / "p").write_text("\rstep 1/3\rstep 2/3")
    assert relay.check() == "step 2/3"
    with open(tmp_path / "p", "a") as handle:
        handle.write("\rstep 3/3")
    assert relay.check() is None  # not due yet
    assert relay.check(final=True) == "step 3/3"
    assert stream.getvalue().splitlines() == ["step 2/3", "step 3/3"]


def test_a_disabled_bar_under_the_runner_opens_and_closes_cleanly(tmp_path, monkeypatch):
    side = tmp_path / "progress.log"
    monkeypatch.setenv(PROGRESS_ENV, str(side))
    bar = progress_bar(total=3, desc="generate", disable=True)
    bar.update(3)
    bar.close()
    assert not side.exists() or side.read_text() == ""
