"""Writes a deterministic code folder: N files (default 2000) totalling BYTES (default 50 MiB) of
seeded pseudo-random (incompressible) content in 40 sub-folders.  Usage: gen.py DIR [N] [BYTES]"""
import os
import random
import sys

root = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
total = int(sys.argv[3]) if len(sys.argv) > 3 else 50 * 1024 * 1024
rng = random.Random(20261127)
sizes = [rng.randint(1, 100) for _ in range(n)]
scale = total / sum(sizes)
sizes = [max(1, int(s * scale)) for s in sizes]
sizes[-1] += total - sum(sizes)
for i, size in enumerate(sizes):
    d = os.path.join(root, f"pkg{i % 40:02d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"mod{i:04d}.bin"), "wb") as f:
        f.write(rng.randbytes(size))
