"""Progress of long stages in the terminal of ``python -m galaxysd run``, not in the executed notebooks.

A notebook runs in a Jupyter kernel whose output goes into the notebook, so a progress bar there
either floods the book's pages or, hidden, leaves the terminal showing papermill's cell counter stuck
for the ten minutes of training. The runner therefore opens a side channel: it names a file in the
environment variable :data:`PROGRESS_ENV` before it starts a notebook, and :func:`progress_bar` (a
:mod:`tqdm` bar) writes there instead of into the notebook. :class:`ProgressRelay`, in the runner, reads
the file and writes its newest line (step, loss, images per second, time left) to the terminal every
few seconds. Without the variable, as in Jupyter or a plain script, :func:`progress_bar` is an ordinary
``tqdm.auto`` bar.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from pathlib import Path
from typing import IO, Iterable

#: Environment variable naming the side-channel file; set by the runner for the notebook's kernel.
PROGRESS_ENV = "GALAXYSD_PROGRESS"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def progress_bar(iterable: Iterable | None = None, **kwargs):
    """A tqdm progress bar that reports to the runner's terminal when the runner started this process.

    Parameters
    ----------
    iterable : iterable, optional
        What to iterate over, as for :class:`tqdm.tqdm`.
    **kwargs
        Passed to :class:`tqdm.tqdm` (``total``, ``desc``, ``initial``, ``disable``, ...).

    Returns
    -------
    tqdm.tqdm
        Writing to the file named by :data:`PROGRESS_ENV` (plain text, at most every 2 s), or a
        ``tqdm.auto`` bar when the variable is unset.

    Examples
    --------
    >>> for step in progress_bar(range(3), desc="train", disable=True):
    ...     pass
    """
    path = os.environ.get(PROGRESS_ENV)
    if not path or kwargs.get("disable"):  # a disabled bar writes nothing: no file to open
        from tqdm.auto import tqdm as auto_tqdm

        return auto_tqdm(iterable, **kwargs)
    from tqdm import tqdm

    class FileBar(tqdm):
        def close(self):
            super().close()
            handle = getattr(self, "fp", None)
            if handle is not None and not handle.closed:
                handle.close()

    options = {"mininterval": 2.0, "ascii": True, "ncols": 110, "dynamic_ncols": False, **kwargs}
    return FileBar(iterable, file=open(path, "a", encoding="utf-8"), **options)


def newest_line(text: str) -> str:
    """The last non-empty status a tqdm bar wrote into ``text`` (its updates are separated by ``\\r``).

    Examples
    --------
    >>> newest_line("\\rtrain:  10%|#  | 1/10\\rtrain:  20%|## | 2/10")
    'train:  20%|## | 2/10'
    """
    parts = [p.strip() for p in re.split(r"[\r\n]", _ANSI.sub("", text))]
    return next((p for p in reversed(parts) if p), "")


class ProgressRelay:
    """Show the newest line of a side-channel file in the terminal while a notebook runs.

    Used as a context manager by the runner: on entry it empties the file and sets
    :data:`PROGRESS_ENV` (kernels started inside inherit it); a thread then checks the file every
    ``poll`` seconds and writes its newest line, prefixed with ``label``, at most every ``every``
    seconds, and always the last one on exit. Lines are written with ``tqdm.write``, which keeps
    papermill's own bar intact.

    Parameters
    ----------
    path : str or path-like
        The side-channel file.
    label : str, optional
        Prefix of each line, e.g. the notebook's name.
    stream : file-like, optional
        Where to write (default: standard error).
    every : float, optional
        Seconds between two lines in the terminal (default: 10 in a terminal, 30 in a log file).
    poll : float, optional
        Seconds between two reads of the file.

    Examples
    --------
    >>> with ProgressRelay(run_dir / ".progress", label="02_finetune"):  # doctest: +SKIP
    ...     execute_notebook(...)
    """

    def __init__(self, path: str | os.PathLike, label: str = "", stream: IO[str] | None = None,
                 every: float | None = None, poll: float = 0.5):
        self.path = Path(path)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every = every if every is not None else (10.0 if tty else 30.0)
        self.poll = poll
        self._offset = 0
        self._pending = ""
        self._shown = ""
        self._last_time = float("-inf")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._previous_env: str | None = None

    def check(self, final: bool = False) -> str | None:
        """Read what was added to the file; write the newest line if it is due. Returns what was written."""
        if self.path.is_file():
            with open(self.path, encoding="utf-8", errors="replace") as handle:
                handle.seek(self._offset)
                added = handle.read()
                self._offset = handle.tell()
            line = newest_line(added)
            if line:
                self._pending = line
        now = time.monotonic()
        if self._pending and self._pending != self._shown and (final or now - self._last_time >= self.every):
            from tqdm import tqdm

            text = f"[{self.label}] {self._pending}" if self.label else self._pending
            tqdm.write(text, file=self.stream)
            self._shown, self._last_time = self._pending, now
            return text
        return None

    def _loop(self) -> None:
        while not self._stop.wait(self.poll):
            self.check()

    def __enter__(self) -> "ProgressRelay":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("")
        self._previous_env = os.environ.get(PROGRESS_ENV)
        os.environ[PROGRESS_ENV] = str(self.path)
        self._thread = threading.Thread(target=self._loop, name="galaxysd-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.check(final=True)
        if self._previous_env is None:
            os.environ.pop(PROGRESS_ENV, None)
        else:
            os.environ[PROGRESS_ENV] = self._previous_env
        self.path.unlink(missing_ok=True)
