"""SIGTERM/SIGINT handling shared by `rotation serve` and its delivery child."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def on_stop_signals(callback: Callable[[], None]) -> None:
    """Call `callback` on SIGTERM or SIGINT instead of dying; needs a running loop.

    Where the loop cannot take signal handlers (Windows, or not the main thread: tests that
    run serve in-process), the defaults stay.
    """
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, callback)
