"""Keep glibc from unmapping zlib's buffers after every per-text ``zlib.compress`` call.

Per-text ``compression_ratio`` compresses every text on its own at level 9. zlib allocates
about 270 KB of deflate state per call; with glibc's default thresholds that memory is
mmapped and unmapped (or the heap grown and trimmed) on every call, and the page faults can
cost more than the compression of a short text (DESIGN 6 measured 4x on this VM;
``evals/bench/bench_malloc_zlib.py`` measures it on yours).

:func:`keep_compression_buffers` raises glibc's trim and mmap thresholds with ``mallopt`` from
inside the process, the same effect as ``MALLOC_TRIM_THRESHOLD_``/``MALLOC_MMAP_THRESHOLD_``
in the environment, without asking the user to set them. It changes process-wide allocator
behaviour, so it is never called at import, and nothing calls it by default: on this VM
``bench_malloc_zlib.py`` measured 1.00x for every setting (5,000 texts, median of 7, one
child process per setting), because glibc raises its own mmap and trim thresholds after the
first large free, so a loop of ``zlib.compress`` calls reuses heap memory anyway. What did
cost page faults here were fresh multi-megabyte numpy temporaries (``np.arange`` of 5.7M
items: 6-21 ms on fresh pages, 1.7 ms on reused ones); the scorer and the MinHasher work
in batches (256 and 2,048 texts) so that their arrays stay small and their memory reused.
This function remains an opt-in for machines where the benchmark shows the trap. It does
nothing off glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD = -1
THRESHOLD_BYTES = 64 * 1024 * 1024


def keep_compression_buffers(threshold: int = THRESHOLD_BYTES) -> bool:
    """Raise glibc's trim and mmap thresholds; True when it took effect."""
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # only the trim threshold: raising the mmap threshold as well measured slower here
    return bool(mallopt(_M_TRIM_THRESHOLD, threshold) == 1)
