#!/usr/bin/python3
"""Writes the benchmark data: N rows x 10 numeric + 2 categorical columns, reference and current."""
import sys

import numpy as np
import pandas as pd

out, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(42)
for name, shift in (('reference', 0.0), ('current', 0.05)):
    cols = {}
    for i in range(10):
        if i % 3 == 2:
            cols[f'x{i}'] = rng.lognormal(shift, 1.0, n)
        else:
            cols[f'x{i}'] = rng.normal(i + shift * (i % 2), 1.0 + shift, n)
    cols['c0'] = rng.choice(np.array(['red', 'green', 'blue', 'cyan', 'magenta']), n)
    p = np.array([0.3, 0.2, 0.2, 0.1, 0.1, 0.1])
    if shift:
        p = np.array([0.25, 0.25, 0.2, 0.1, 0.1, 0.1])
    cols['c1'] = rng.choice(np.array([f'k{j}' for j in range(6)]), n, p=p)
    pd.DataFrame(cols).to_csv(f'{out}/{name}.csv', index=False, float_format='%.10g')
