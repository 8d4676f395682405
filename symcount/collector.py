"""Python's cyclic garbage collector, paused while symcount builds a large structure.

Parsing and building allocate many small objects and free almost none, so the collector's
passes find nothing, and its full passes rescan a heap that grows with the network: at
10,000 layers written out they took about a fifth of the time, and the time per layer grew
with depth.  What symcount builds holds no reference cycles, so nothing is lost by pausing;
the collector's own state is restored on the way out (a caller who disabled it keeps it so).
"""
from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def paused():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
