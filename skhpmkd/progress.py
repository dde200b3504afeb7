"""Progress bars of a verbose fit (tqdm's, notebook aware), advanced in this process.

A fit opens a bar for a stage with :func:`progress_bar`; work in that stage advances
the open bar with :func:`tick` (a student trained) or, for joblib tasks, through
:func:`skhpmkd.parallel.run_tasks`, which ticks once per finished task and pauses the
ticks of the work inside the tasks (:func:`ticks_paused`) so that nothing is counted
twice. Workers in other processes see no open bar. When not enabled there is no bar
and ticks do nothing.
"""

import contextvars
import sys
from contextlib import contextmanager

from tqdm.auto import tqdm

_OPEN_BAR = contextvars.ContextVar("skhpmkd_open_bar", default=None)


#: How a bar without a total (work whose size is not known ahead) shows.
OPEN_ENDED_FORMAT = "{desc}: {n_fmt} [{elapsed}, {rate_fmt}]"


@contextmanager
def progress_bar(description, unit, enabled=True, sized=False):
    """Open a bar for the block (when ``enabled``); yields it, or None. ``sized``:
    the work inside gives the bar its total (:func:`expect`), else it counts only."""
    bar = None
    if enabled:
        bar = tqdm(desc=description, unit=unit, total=None,
                   bar_format=None if sized else OPEN_ENDED_FORMAT)
    token = _OPEN_BAR.set(bar)
    try:
        yield bar
    finally:
        _OPEN_BAR.reset(token)
        if bar is not None:
            bar.close()


def open_bar():
    """The bar that ticks advance here, or None."""
    return _OPEN_BAR.get()


def tick(n=1):
    """Advance the open bar by ``n``, if there is one."""
    bar = _OPEN_BAR.get()
    if bar is not None:
        bar.update(n)


def expect(n):
    """Add ``n`` steps to the open bar's total (work whose size is known)."""
    bar = _OPEN_BAR.get()
    if bar is not None:
        bar.total = (bar.total or 0) + n
        bar.refresh()


@contextmanager
def ticks_paused():
    """No ticks from the block: its work is counted some other way."""
    token = _OPEN_BAR.set(None)
    try:
        yield
    finally:
        _OPEN_BAR.reset(token)


def write(message):
    """Print ``message`` on its own line (standard output), above any open bar."""
    tqdm.write(message, file=sys.stdout)
    sys.stdout.flush()
