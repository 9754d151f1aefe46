#!/usr/bin/python3
"""The Python baseline: pandas read_csv + scipy ks_2samp + wasserstein_distance + the same bins for JS/PSI
(Azure ML conventions) and chi2_contingency/JS/PSI for the categorical columns."""
import math
import sys

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

ref = pd.read_csv(sys.argv[1])
cur = pd.read_csv(sys.argv[2])
out = {}
for col in ref.columns:
    a, b = ref[col].dropna(), cur[col].dropna()
    if a.dtype.kind == 'f':
        a, b = a.to_numpy(), b.to_numpy()
        ks = stats.ks_2samp(a, b)
        w = stats.wasserstein_distance(a, b)
        lo, hi = min(a.min(), b.min()), max(a.max(), b.max())
        k = math.ceil(math.log2(min(len(a), len(b))) + 1)
        edges = np.linspace(lo, hi, k + 1)
        ha, hb = np.histogram(a, edges)[0], np.histogram(b, edges)[0]
        pa, pb = (ha + 1) / (len(a) + k), (hb + 1) / (len(b) + k)
        out[col] = (ks.statistic, ks.pvalue, w, w / max(np.std(a, ddof=1), 0.001),
                    jensenshannon(ha / len(a), hb / len(b), base=2), np.sum((pb - pa) * np.log(pb / pa)))
    else:
        ca, cb = a.value_counts(), b.value_counts()
        keys = sorted(set(ca.index) | set(cb.index))
        r = np.array([ca.get(x, 0) for x in keys], float)
        c = np.array([cb.get(x, 0) for x in keys], float)
        chi = stats.chi2_contingency(np.vstack([r, c]))
        pr, pc = (r + 1) / (r.sum() + len(keys)), (c + 1) / (c.sum() + len(keys))
        out[col] = (jensenshannon(r / r.sum(), c / c.sum(), base=2), np.sum((pc - pr) * np.log(pc / pr)), chi[0], chi[1])
for k, v in out.items():
    print(k, ' '.join(repr(float(x)) for x in v))
