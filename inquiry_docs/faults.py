"""Named crash points for the crash-safety tests.

With INQUIRY_DOCS_FAULT=<name> in its environment, a process kills itself (SIGKILL, no
clean-up) when it reaches that point, so tests can prove what survives a hard crash. Unset,
each point is a dictionary lookup and nothing else.
"""

from __future__ import annotations

import os
import signal
from typing import Any

ENV = "INQUIRY_DOCS_FAULT"


def point(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def around(obj: Any, method: str, name: str) -> None:
    """Crash inside `obj.method` when the fault is armed (used to hit the middle of a commit)."""
    if os.environ.get(ENV) != name:
        return
    original = getattr(obj, method)

    def crash_first(*args: Any, **kwargs: Any) -> Any:
        point(name)
        return original(*args, **kwargs)

    setattr(obj, method, crash_first)
