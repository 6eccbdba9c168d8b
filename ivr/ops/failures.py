"""How a command that fails tells a person: one sentence saying what went wrong and what to do,
never a traceback; and a stop by Ctrl-C or SIGTERM that lets everything started be cleaned up."""

from __future__ import annotations

import os
import signal
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from redis.exceptions import RedisError

from ivr.config import ConfigError
from ivr.store.diagnosis import redis_failure
from ivr.store.errors import StoreUnavailable

ROOT = Path(__file__).resolve().parents[2]  # where `ivr/` is: places are shown from here
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C


class Failed(Exception):
    """A failure already put in words: what went wrong and what to do."""


class Stopped(Exception):
    """The command was asked to stop (Ctrl-C or SIGTERM) and has cleaned up after itself."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def explain(exc: BaseException, *, redis_url: str | None = None) -> str:
    """One sentence for a failure: what went wrong and what to do about it."""
    if isinstance(exc, ConfigError | Failed):
        return str(exc)
    url = redis_url if redis_url is not None else os.environ.get("REDIS_URL", "")
    if url and _from_redis(exc) and (found := redis_failure(exc, url)) is not None:
        return str(found)
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"{exc.filename} does not exist: check the path, or create the folder first"
    if isinstance(exc, PermissionError) and exc.filename:
        return f"no permission to use {exc.filename}: pick a place you can write to"
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or type(exc).__name__}"
    return unexpected(exc)


def _from_redis(exc: BaseException) -> bool:
    """Whether a Redis client raised `exc` or one it was raised from (not any OSError: a file
    that cannot be written is not Redis's fault)."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, RedisError | StoreUnavailable):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def unexpected(exc: BaseException) -> str:
    """A failure nobody foresaw: where it happened, and how to see the whole of it."""
    frames = traceback.extract_tb(exc.__traceback__)
    place = ""
    if frames:
        file = Path(frames[-1].filename)
        shown = file.relative_to(ROOT) if file.is_relative_to(ROOT) else file.name
        place = f" at {shown}:{frames[-1].lineno}"
    return (
        f"failed unexpectedly ({type(exc).__name__}{place}): run it again with IVR_DEBUG=1 to see the"
        " traceback, and please report it"
    )


@contextmanager
def stopping_cleanly(what: str) -> Iterator[None]:
    """Ctrl-C or SIGTERM stops the work inside with KeyboardInterrupt, so that every `finally` and
    context manager on the way out stops what it started (servers, Redis), then raises Stopped.
    Without this, SIGTERM would end the process at once and leave its children running."""
    received: list[int] = []

    def interrupt(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        raise KeyboardInterrupt

    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, interrupt) if main_thread else None
    try:
        yield
    except KeyboardInterrupt:
        by = "SIGTERM" if signal.SIGTERM in received else "Ctrl-C"
        status = 128 + (signal.SIGTERM if by == "SIGTERM" else signal.SIGINT)
        raise Stopped(f"stopped by {by}; {what}", status) from None
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
