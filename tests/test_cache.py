"""The stage cache: hits, misses on changed parameters or inputs, and downstream invalidation."""

import json

import pytest

from galaxysd.cache import fingerprint, run_stage


class Counter:
    """A compute function that records how often it ran and writes a file derived from its input."""

    def __init__(self, text):
        self.calls = 0
        self.text = text

    def __call__(self, out):
        self.calls += 1
        (out / "result.txt").write_text(self.text)


def test_second_call_with_same_parameters_is_a_hit(tmp_path):
    compute = Counter("a")
    first = run_stage(tmp_path, "labels", {"min": 0.8}, compute, verbose=False)
    second = run_stage(tmp_path, "labels", {"min": 0.8}, compute, verbose=False)
    assert (first.hit, second.hit, compute.calls) == (False, True, 1)
    assert (second.path / "result.txt").read_text() == "a"
    record = json.loads((second.path / "stage.json").read_text())
    assert record["params"] == {"min": 0.8}
    assert isinstance(record["seconds"], float) and record["seconds"] >= 0  # what computing it took


def test_changed_parameter_is_a_miss(tmp_path):
    compute = Counter("a")
    run_stage(tmp_path, "labels", {"min": 0.8}, compute, verbose=False)
    again = run_stage(tmp_path, "labels", {"min": 0.7}, compute, verbose=False)
    assert not again.hit and compute.calls == 2


def test_changed_input_file_content_is_a_miss(tmp_path):
    source = tmp_path / "votes.csv"
    source.write_text("1,2\n")
    compute = Counter("a")
    run_stage(tmp_path / "run", "labels", {}, compute, inputs=[source], verbose=False)
    assert run_stage(tmp_path / "run", "labels", {}, compute, inputs=[source], verbose=False).hit
    source.write_text("1,3\n")
    assert not run_stage(tmp_path / "run", "labels", {}, compute, inputs=[source], verbose=False).hit


def test_upstream_change_invalidates_downstream_stage(tmp_path):
    upstream = Counter("v1")
    downstream = Counter("model")
    data = run_stage(tmp_path, "01_data", {"n": 10}, upstream, verbose=False)
    run_stage(tmp_path, "02_train", {"steps": 5}, downstream, inputs=[data.path], verbose=False)
    assert run_stage(tmp_path, "02_train", {"steps": 5}, downstream, inputs=[data.path], verbose=False).hit

    upstream.text = "v2"
    data = run_stage(tmp_path, "01_data", {"n": 20}, upstream, verbose=False)
    again = run_stage(tmp_path, "02_train", {"steps": 5}, downstream, inputs=[data.path], verbose=False)
    assert not again.hit and downstream.calls == 2


def test_failed_stage_leaves_no_record_and_keeps_its_partial_work_for_resuming(tmp_path):
    attempts = []

    def flaky(out):
        attempts.append(sorted(p.name for p in out.iterdir()))
        (out / "checkpoint-1").write_text("half")
        if len(attempts) == 1:
            raise RuntimeError("interrupted")
        (out / "final").write_text("done")

    with pytest.raises(RuntimeError):
        run_stage(tmp_path, "train", {"steps": 2}, flaky, verbose=False)
    assert not (tmp_path / "train").exists()
    result = run_stage(tmp_path, "train", {"steps": 2}, flaky, verbose=False)
    assert attempts == [[], ["checkpoint-1"]]
    assert (result.path / "final").read_text() == "done"
    assert not any(p.name.startswith(".train.partial") for p in tmp_path.iterdir())


def test_missing_input_is_reported_by_name(tmp_path):
    with pytest.raises(Exception, match="missing_stage.*does not exist"):
        fingerprint(tmp_path / "missing_stage")


def test_folder_fingerprint_follows_content_not_timestamps(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"abc")
    before = fingerprint(folder)
    (folder / "a.jpg").write_bytes(b"abc")
    assert fingerprint(folder) == before
    (folder / "a.jpg").write_bytes(b"abd")
    assert fingerprint(folder) != before


def test_atomic_path_replaces_a_folder_whole_and_cleans_up_after_a_failure(tmp_path):
    from galaxysd.cache import atomic_path

    target = tmp_path / "model"
    with atomic_path(target) as tmp:
        tmp.mkdir()
        (tmp / "old.txt").write_text("old")
    with atomic_path(target) as tmp:
        tmp.mkdir()
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]

    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.mkdir()
            (tmp / "half.txt").write_text("half")
            raise RuntimeError("crash while writing")
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temporary left behind


def test_two_threads_writing_the_same_file_at_once_both_land_whole(tmp_path):
    import threading

    from galaxysd.cache import atomic_write_text

    target, errors = tmp_path / "shared.csv", []
    barrier = threading.Barrier(2)

    def write(text):
        try:
            barrier.wait()
            for _ in range(200):
                atomic_write_text(target, text)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(t * 1000,)) for t in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert target.read_text() in ("a" * 1000, "b" * 1000)
    assert [p.name for p in tmp_path.iterdir()] == ["shared.csv"]
