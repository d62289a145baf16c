"""How many CPU threads torch uses, chosen so that a shared machine does not spin.

torch's CPU kernels run on OpenMP threads, which by default busy-wait at every barrier for
the others to arrive. When other processes hold the cores, a thread spins waiting for one
that has lost its core. On a 2-core machine shared with other jobs (load average about 10),
the bandit's 8 smollm2 participants took 312 s on two spinning threads and 44 s on one; with
``OMP_WAIT_POLICY=PASSIVE`` waiting threads sleep instead, and two threads took 33 s. So sbl
asks for passive waiting, which OpenMP reads once, when torch is imported, and then uses
every core it may run on; if torch was imported before sbl could ask (and the policy is not
passive), it uses one thread. ``OMP_NUM_THREADS``, if set, is the default; ``threads=``
(``--threads``) overrides both.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

POLICY = "OMP_WAIT_POLICY"


def ask_passive_waiting() -> None:
    """Ask OpenMP to sleep, not spin, at barriers, unless the user chose a policy. It only
    takes effect if torch has not been imported yet."""
    if "torch" not in sys.modules:
        os.environ.setdefault(POLICY, "PASSIVE")


def available_cpus() -> int:
    """The CPUs this process may run on: its affinity mask, capped by a cgroup CPU quota."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cpus = os.cpu_count() or 1
    quota = _cgroup_quota()
    return max(1, min(cpus, quota) if quota else cpus)


def _cgroup_quota() -> int | None:
    """A container's CPU limit (cgroup v2 ``cpu.max``: quota and period), rounded up."""
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        return math.ceil(int(quota) / int(period))
    except (OSError, ValueError):  # no cgroup v2, or "max": no limit
        return None


def default_threads() -> int:
    """``OMP_NUM_THREADS`` if set; else every available CPU when OpenMP waits passively, one
    when it spins (see the module's docstring)."""
    try:
        return max(1, int(os.environ.get("OMP_NUM_THREADS", "").split(",")[0]))
    except ValueError:
        pass
    ask_passive_waiting()
    passive = os.environ.get(POLICY, "").upper() == "PASSIVE"
    return available_cpus() if passive else 1


def use_threads(threads: int | None = None) -> int:
    """Set torch's CPU threads to ``threads`` (default: :func:`default_threads`); returns
    the number set."""
    ask_passive_waiting()
    count = default_threads() if threads is None else threads
    if count < 1:
        from sbl.source import SblError

        raise SblError.at(None, f"threads must be at least 1 (got {count})")
    import torch

    torch.set_num_threads(count)
    return count
