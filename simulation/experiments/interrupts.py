"""Ctrl-C and SIGTERM: stop at any moment, keep what can be kept, and say which signal it was.

Inside :func:`handled` (the ``simulate`` command installs it for its whole run), SIGINT and SIGTERM
raise :class:`Interrupted`, a KeyboardInterrupt: every ``except KeyboardInterrupt`` and ``except
BaseException`` that stops worker processes and saves finished work runs for a batch system's
SIGTERM (a time limit, ``scancel``, ``kill``) just as for Ctrl-C. The exit code is 128 + the signal
number: 130 for Ctrl-C, 143 for SIGTERM.

Around writing results, :class:`deferred` holds a signal back until the files are whole, then
raises it; a second signal stops at once (or, for a short write that must finish, is held too).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)
NAMES = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; ``exit_code`` is what the shell should see."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(int(signum))
        self.signum = int(signum)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    @property
    def name(self) -> str:
        return NAMES.get(self.signum, f"signal {self.signum}")


def as_interrupted(exc: BaseException) -> Interrupted:
    """A KeyboardInterrupt (plain ones come from Ctrl-C) as an Interrupted."""
    return exc if isinstance(exc, Interrupted) else Interrupted(signal.SIGINT)


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def _ours(signum: int, handler: Any) -> bool:
    """May we take this signal over? Not if it is ignored (``nohup``, a background job) or someone else's."""
    if signum == signal.SIGINT:
        return handler is signal.default_int_handler or handler is _raise
    return handler in (signal.SIG_DFL, _raise)


@contextmanager
def handled() -> Iterator[None]:
    """SIGINT and SIGTERM raise Interrupted inside the block (main thread only; handlers restored after)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for signum in SIGNALS:
        current = signal.getsignal(signum)
        if _ours(signum, current):
            previous[signum] = signal.signal(signum, _raise)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class deferred:
    """Hold SIGINT and SIGTERM back while the block runs; raise the first one as Interrupted after it.

    ``notice(interrupted)`` is called when the first signal arrives (to say what is being finished).
    A second signal raises at once if ``second_stops``, else it is held as well.
    """

    def __init__(self, notice: Callable[[Interrupted], None] | None = None, second_stops: bool = True) -> None:
        self.notice, self.second_stops = notice, second_stops
        self.held: Interrupted | None = None
        self._previous: dict[int, Any] = {}

    def _hold(self, signum: int, frame: FrameType | None) -> None:
        if self.held is not None and self.second_stops:
            raise Interrupted(signum)
        if self.held is None:
            self.held = Interrupted(signum)
            if self.notice is not None:
                self.notice(self.held)

    def __enter__(self) -> deferred:
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                if _ours(signum, signal.getsignal(signum)):
                    self._previous[signum] = signal.signal(signum, self._hold)
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
        if kind is None and self.held is not None:
            raise self.held
