"""Runs a command; prints its wall time and the CPU time (user+sys) of it and its children, in ms.
On failure prints "ERR ERR" and the end of the command's stderr (to stderr).
Usage: measure.py CMD [ARG]...   (CMD's stdout is discarded)."""
import resource
import subprocess
import sys
import time

t0 = time.monotonic()
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = (time.monotonic() - t0) * 1000
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
if p.returncode != 0:
    sys.stderr.write(f"{' '.join(sys.argv[1:3])} failed (exit {p.returncode}):\n{p.stderr.decode()[-2000:]}\n")
    print("ERR ERR")
else:
    print(f"{wall:.0f} {(ru.ru_utime + ru.ru_stime) * 1000:.0f}")
