"""Pausing Python's cyclic garbage collector around allocation-heavy work.

Loading rules, parsing a template, running the rules over it and fixing it allocate
hundreds of thousands of objects and (almost) no reference cycles: everything is freed
by reference counting. The cyclic collector would still walk every live object again and
again while that happens, which costs 15-40% of the time on large templates, so it is
paused there and runs as usual afterwards.

What start-up creates (modules, classes, rules, configurations) lives as long as the
process: :func:`loading` also freezes it, so no later collection walks it again, nor the
one at interpreter exit (about 30 ms of a one-file check).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager


@contextmanager
def paused(freeze: bool = False) -> Iterator[None]:
    """No cyclic garbage collection inside the block (nested use is fine); also a
    decorator. ``freeze``: see :func:`loading`."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:  # before the collector runs again, or it scans every object made here
            gc.freeze()
        if enabled:
            gc.enable()


def loading() -> AbstractContextManager[None]:
    """Like :func:`paused`; at the end every object alive is moved out of the collector's
    sight for good (:func:`gc.freeze`): only for what lives as long as the process."""
    return paused(freeze=True)
