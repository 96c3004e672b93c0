"""When the compiled kernels (:mod:`studio.metrics.kernels`, numba) are worth loading.

Importing numba and loading the cached machine code costs about a second (and compiling
them, once per installation, about eight), so only large jobs use them. Everything the
kernels compute has a numpy path giving the same values, used otherwise and when numba is
missing.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

#: a job is large once it has brought this many texts (a scorer counts across its batches)
KERNEL_MIN_TEXTS = 1000
#: and this many in the batch at hand (so that a long-lived scorer fed one text at a time,
#: as the TUI does, never loads numba)
KERNEL_MIN_BATCH = 128

_MODULE = "studio.metrics.kernels"


def loaded_kernels() -> ModuleType | None:
    """The kernels if something in this process already loaded them (free to use)."""
    return sys.modules.get(_MODULE)


def load_kernels() -> ModuleType | None:
    """Import the kernels (about a second the first time); None when numba is unavailable
    or ``STUDIO_KERNELS=off`` is set (then everything takes the numpy path)."""
    if os.environ.get("STUDIO_KERNELS", "").lower() in {"off", "0", "no", "false"}:
        return None
    try:
        from studio.metrics import kernels
    except (ImportError, OSError):  # numba missing, or its LLVM library fails to load
        return None
    return kernels
