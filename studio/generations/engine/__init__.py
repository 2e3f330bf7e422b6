"""The engine: claim, submit, poll, download. Run by Celery (tasks.py) and by `generate --wait`.

Rules (docs/design.md, "The flow of one generation"):
- A row is worked on only by whoever won its conditional UPDATE (a claim with a lease).
- A submit that may have reached the vendor is never sent again on our own: it becomes submit_unknown.
- A finished result is downloaded at once (by the process's download pool, never holding the sweep),
  probed, given a poster, and stored before the job succeeds.
- A crash anywhere loses nothing: leases expire and the sweeper picks the row up again.

One module per step: ``rules`` (leases, backoff, the error fields every step writes), ``submitting``,
``polling``, ``downloads``, ``pools`` (this process's threads and what they can do) and ``sweeping`` (one
tick over every due row, and ``drive`` for one job in this process).
"""

from studio.generations.engine.downloads import download, staged_result, wait_for_downloads
from studio.generations.engine.polling import claim_poll, poll, poll_from_sweep
from studio.generations.engine.pools import poll_capacity
from studio.generations.engine.rules import MAX_DOUBTFUL_POLLS, MAX_SUBMIT_ATTEMPTS
from studio.generations.engine.submitting import build_spec, recover_abandoned, submit
from studio.generations.engine.sweeping import SweepReport, close_pool_connections, drive, sweep

__all__ = [
    "MAX_DOUBTFUL_POLLS",
    "MAX_SUBMIT_ATTEMPTS",
    "SweepReport",
    "build_spec",
    "claim_poll",
    "close_pool_connections",
    "download",
    "drive",
    "poll",
    "poll_capacity",
    "poll_from_sweep",
    "recover_abandoned",
    "staged_result",
    "submit",
    "sweep",
    "wait_for_downloads",
]
