#!/usr/bin/env python3
"""PyTorch (CPU) matmul rate for compare.ts's roofline section.

Reads requests `n threads reps` (one a line) on stdin and answers each with
one JSON line: the median time of `reps` products torch.mm(a, b) of two
n×n float32 matrices (after 2 warm-up products) and the rate 2n³ / time.
One process answers every request, so compare.ts can alternate it with the
wasm measurements without paying `import torch` each time.

Threads: torch.set_num_threads(threads) for torch's own kernels, and the
same count for OpenBLAS (Debian's python3-torch calls the system libblas,
here OpenBLAS's pthread build, whose pool ignores set_num_threads and runs
as many threads as cores unless told otherwise).
"""
import ctypes
import json
import statistics
import sys
import time

import torch


def openblas():
    for name in ('libopenblas.so.0', 'libblas.so.3'):
        try:
            lib = ctypes.CDLL(name)
            lib.openblas_set_num_threads  # noqa: B018 (probe)
            return lib
        except (OSError, AttributeError):
            pass
    return None


blas = openblas()
torch.manual_seed(0)
mats = {}
for line in sys.stdin:
    if not line.strip():
        continue
    n, threads, reps = (int(v) for v in line.split())
    torch.set_num_threads(threads)
    if blas is not None:
        blas.openblas_set_num_threads(threads)
    if n not in mats:
        mats[n] = (torch.randn(n, n), torch.randn(n, n))
    a, b = mats[n]
    for _ in range(2):
        torch.mm(a, b)
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        torch.mm(a, b)
        ts.append((time.perf_counter() - t0) * 1000)
    ms = statistics.median(ts)
    print(json.dumps({
        'n': n, 'threads': threads, 'ms': round(ms, 4), 'gflops': round(2 * n ** 3 / ms / 1e6, 3),
        'openblasThreads': blas.openblas_get_num_threads() if blas is not None else None,
        'version': torch.__version__,
    }), flush=True)
