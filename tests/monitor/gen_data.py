#!/usr/bin/python3
"""Writes small monitoring data sets into OUTDIR for the amlops-monitor CLI tests.

ref.csv: 3000 scored rows (Nov 1-14, 2026); cur.csv: the same process with drifted inputs (age, income,
a new city) and, from its second half, a model that guesses; cur_same.csv: no drift.
"""
import sys

import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(1)


def write(path, n, shift):
    with open(path, 'w') as f:
        f.write('ts,age,income,city,flag,y,yhat,p\n')
        for i in range(n):
            day = 1 + i * 14 // n
            age = rng.normal(40 + shift * 5, 10)
            inc = rng.lognormal(10, 0.5 + shift * 0.2)
            city = rng.choice(['paris', 'rome', 'oslo'] + (['new york'] if shift else []))
            flag = rng.random() < 0.3
            p = 1 / (1 + np.exp(-(age - 40) / 10))
            y = int(rng.random() < p)
            yhat = int(p > 0.5) if not shift or i < n / 2 else int(rng.random() < 0.5)
            f.write(f'2026-11-{day:02d}T{(i % 24):02d}:00:00Z,{age!r},{inc!r},{city},{str(flag).lower()},{y},{yhat},{p!r}\n')


write(f'{out}/ref.csv', 3000, 0)
write(f'{out}/cur.csv', 3000, 1)
write(f'{out}/cur_same.csv', 3000, 0)
