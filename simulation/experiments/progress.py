"""Progress of a batch of work, wherever it runs: a terminal, Jupyter, or a log file (SLURM).

One class for every long command (run, compare, sweep, validate, calibrate, ...)::

    with Progress("run baseline", total=400, unit="replicates") as bar:
        for ...:
            bar.advance(1)            # or bar.advance(8, failed=1)

``mode`` picks how it shows; ``True`` (the default) chooses by where the output goes:

* ``"notebook"`` in a Jupyter kernel: a tqdm notebook bar (an ipywidget) under the cell;
* ``"bar"`` when stderr is a terminal: a rich bar on stderr, redrawn in place;
* ``"lines"`` otherwise (a batch job's log, a pipe): a plain line on stderr at the start, about
  every 10 % of the work and at least once a minute, and at the end, such as
  ``run baseline: 120/400 replicates (30%), elapsed 0:00:41, left 0:01:35``;
* ``False`` or ``"off"``: nothing.

Time left is the elapsed time per unit done in this session times the units still to do.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any

MODES = ("bar", "notebook", "lines", "off")
LINE_FRACTION = 0.1  # a line about every 10 % of the work
LINE_SECONDS = 60.0  # and at least once a minute


def in_notebook() -> bool:
    """True inside a Jupyter kernel (IPython with a kernel attached)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def choose_mode(mode: bool | str | None, stream: IO[str] | None = None) -> str:
    """The mode ``True``/``False``/a name stands for here (see the module docstring)."""
    if mode is None or mode is False:
        return "off"
    if mode is True:
        if in_notebook():
            return "notebook"
        stream = stream if stream is not None else sys.stderr
        return "bar" if _isatty(stream) else "lines"
    if mode not in MODES:
        raise ValueError(f"progress mode must be True, False or one of {', '.join(MODES)}; got {mode!r}")
    return mode


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed, or not a real stream
        return False


class Progress:
    """Units of work done of ``total`` (and how many failed, if ``failed`` is given), shown by ``mode``.

    ``done`` and ``failed`` start the counts (a resumed sweep); ``transient`` removes a terminal
    bar when it closes. Use as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        label: str,
        total: int,
        *,
        unit: str = "replicates",
        mode: bool | str | None = True,
        done: int = 0,
        failed: int | None = None,
        transient: bool = False,
        stream: IO[str] | None = None,
    ) -> None:
        self.label, self.total, self.unit = label, int(total), unit
        self.done, self.failed = int(done), failed
        self.stream = stream
        self.mode = choose_mode(mode, stream)
        self._started_at = done
        self._clock = time.monotonic()
        self._last_line = self._clock
        self._next_line = done + self._line_step()
        self._bar: Any = None
        self._task: Any = None
        if self.mode == "bar":
            self._start_rich(transient)
        elif self.mode == "notebook":
            self._start_notebook()
        if self.mode == "lines":
            self._line()

    # --- counting ------------------------------------------------------------------------------
    def advance(self, n: int = 1, failed: int = 0) -> None:
        """``n`` more units done, ``failed`` of them failed."""
        self.done += n
        if failed:
            self.failed = (self.failed or 0) + failed
        if self.mode == "bar":
            fields = {} if self.failed is None else {"failed": self.failed}
            self._bar.update(self._task, advance=n, **fields)
        elif self.mode == "notebook":
            self._bar.update(n)
            if self.failed is not None:
                self._bar.set_postfix(failed=self.failed, refresh=False)
        elif self.mode == "lines":
            now = time.monotonic()
            if self.done >= self._next_line or self.done >= self.total or now - self._last_line >= LINE_SECONDS:
                self._line()
                self._last_line = now
                while self._next_line <= self.done:
                    self._next_line += self._line_step()

    def seconds_left(self) -> float | None:
        """Estimated seconds to finish, from this session's pace (None before the first unit)."""
        ran = self.done - self._started_at
        if ran <= 0:
            return None
        return (time.monotonic() - self._clock) / ran * max(self.total - self.done, 0)

    def close(self) -> None:
        if self._bar is not None:
            if self.mode == "bar":
                self._bar.stop()
            else:
                self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the three ways to show it ------------------------------------------------------------
    def _start_rich(self, transient: bool) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)  # fmt: skip

        columns: list[Any] = [TextColumn(self.label), BarColumn(), MofNCompleteColumn(), TextColumn(self.unit)]
        if self.failed is not None:
            columns.append(TextColumn("{task.fields[failed]} failed"))
        columns += [TextColumn("elapsed"), TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn()]
        console = Console(file=self.stream) if self.stream is not None else Console(stderr=True)
        self._bar = RichProgress(*columns, console=console, transient=transient)
        self._bar.start()
        fields = {} if self.failed is None else {"failed": self.failed}
        self._task = self._bar.add_task(self.label, total=self.total, completed=self.done, **fields)

    def _start_notebook(self) -> None:
        try:
            from tqdm.notebook import tqdm

            self._bar = tqdm(total=self.total, initial=self.done, desc=self.label, unit=f" {self.unit}")
        except ImportError:  # no ipywidgets: plain lines under the cell instead
            self.mode = "lines"
            return
        if self.failed is not None:
            self._bar.set_postfix(failed=self.failed)

    def _line(self) -> None:
        left = self.seconds_left()
        failed = "" if self.failed is None else f", {self.failed} failed"
        share = self.done / self.total if self.total else 1.0
        text = (f"{self.label}: {self.done}/{self.total} {self.unit} ({share:.0%}){failed}, "
                f"elapsed {clock(time.monotonic() - self._clock)}, left {'?' if left is None else clock(left)}")
        print(text, file=self.stream if self.stream is not None else sys.stderr, flush=True)

    def _line_step(self) -> int:
        return max(1, round(self.total * LINE_FRACTION))


def clock(seconds: float) -> str:
    """``H:MM:SS``."""
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}"
