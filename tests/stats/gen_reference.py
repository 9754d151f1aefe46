#!/usr/bin/python3
"""Generates data files and reference values (scipy / scikit-learn / numpy) for the stats tests.

Usage: gen_reference.py OUTDIR
Writes OUTDIR/<case>_ref.csv, OUTDIR/<case>_cur.csv, scored_*.csv and OUTDIR/reference.json.
The reference values use only numpy, scipy and scikit-learn (never amlops code), following the
conventions documented in docs/monitor.md: Azure ML model monitoring for the metrics, Evidently's
rules for --compat evidently.
"""
import json
import math
import os
import sys

import numpy as np
import scipy
import sklearn
from scipy import stats
from scipy.spatial.distance import jensenshannon
from sklearn import metrics as skm

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(20261126)


def fmt(v):
    if isinstance(v, str):
        return '"' + v.replace('"', '""') + '"' if (',' in v or '"' in v) else v
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ''
    return repr(float(v))


def write_csv(path, cols):
    names = list(cols)
    n = len(cols[names[0]])
    with open(path, 'w') as f:
        f.write(','.join(names) + '\n')
        for i in range(n):
            f.write(','.join(fmt(cols[c][i]) for c in names) + '\n')


def clean(x):
    x = np.asarray(x, dtype=float)
    return x[np.isfinite(x)]


def azure_numeric(a, b):
    a, b = clean(a), clean(b)
    ks = stats.ks_2samp(a, b)
    w = stats.wasserstein_distance(a, b)
    std = np.std(a, ddof=1) if len(a) > 1 else 0.0
    lo, hi = min(a.min(), b.min()), max(a.max(), b.max())
    if lo == hi:
        d = 0.005 if lo == 0 else abs(lo) * 0.005
        edges = np.array([lo - d, lo + d])
    else:
        k = math.ceil(math.log2(min(len(a), len(b))) + 1)
        edges = np.linspace(lo, hi, k + 1)
    ha = np.histogram(a, edges)[0].astype(float)
    hb = np.histogram(b, edges)[0].astype(float)
    kk = len(ha)
    pa, pb = (ha + 1) / (len(a) + kk), (hb + 1) / (len(b) + kk)
    return {
        'ks_statistic': float(ks.statistic), 'ks_pvalue': float(ks.pvalue),
        'wasserstein': float(w), 'wasserstein_norm': float(w / max(std, 0.001)),
        'jensen_shannon': float(jensenshannon(ha / len(a), hb / len(b), base=2)),
        'psi': float(np.sum((pb - pa) * np.log(pb / pa))),
    }


def quantile_psi(a, b, k=10):
    """PSI over k bins at the reference's quantiles (np.quantile, linear), repeated edges dropped,
    outer edges stretched to both samples; Laplace smoothing as Azure's PSI. One distinct
    reference value: Azure's equal-width bins (the uniform PSI)."""
    a, b = clean(a), clean(b)
    e = np.unique(np.quantile(a, np.linspace(0, 1, k + 1)))
    if len(e) < 2:
        return azure_numeric(a, b)['psi']
    e[0] = min(e[0], b.min())
    e[-1] = max(e[-1], b.max())
    ha = np.histogram(a, e)[0].astype(float)
    hb = np.histogram(b, e)[0].astype(float)
    kk = len(ha)
    pa, pb = (ha + 1) / (len(a) + kk), (hb + 1) / (len(b) + kk)
    return float(np.sum((pb - pa) * np.log(pb / pa)))


def counts(x):
    x = [v for v in x if v is not None]
    keys, cnt = np.unique(np.array(x, dtype=object).astype(str), return_counts=True)
    return dict(zip(keys.tolist(), cnt.tolist()))


def azure_categorical(a, b):
    ca, cb = counts(a), counts(b)
    keys = sorted(set(ca) | set(cb))
    r = np.array([ca.get(k, 0) for k in keys], dtype=float)
    c = np.array([cb.get(k, 0) for k in keys], dtype=float)
    res = {'jensen_shannon': float(jensenshannon(r / r.sum(), c / c.sum(), base=2))}
    k = len(keys)
    pr, pc = (r + 1) / (r.sum() + k), (c + 1) / (c.sum() + k)
    res['psi'] = float(np.sum((pc - pr) * np.log(pc / pr)))
    if k > 1:
        chi = stats.chi2_contingency(np.vstack([r, c]))
        res['chi2_statistic'], res['chi2_pvalue'] = float(chi[0]), float(chi[1])
    else:
        res['chi2_statistic'], res['chi2_pvalue'] = 0.0, 1.0
    return res


def ev_eps(p):
    p = p.copy()
    nz = p[p > 0]
    mn = nz.min() if len(nz) else 1.0
    eps = mn / 1e6 if mn <= 1e-4 else 1e-4
    p[p == 0] = eps
    return p


def evidently(a, b, numeric):
    """Evidently's default test for a column and its score (legacy stattests)."""
    if numeric:
        a, b = clean(a), clean(b)
        n_values = len(np.unique(np.concatenate([a, b])))
    else:
        a = [v for v in a if v is not None]
        b = [v for v in b if v is not None]
        n_values = len(set(map(str, a)) | set(map(str, b)))
    n_ref = len(a)
    if n_ref <= 1000:
        method = 'ks' if numeric and n_values > 5 else ('chisquare' if n_values > 2 else 'z')
    else:
        method = 'wasserstein' if numeric and n_values > 5 else 'jensenshannon'
    sa = [repr(float(v)) if numeric else str(v) for v in a]
    sb = [repr(float(v)) if numeric else str(v) for v in b]
    keys = sorted(set(sa) | set(sb))
    ca, cb = counts(sa), counts(sb)
    if method == 'ks':
        value = stats.ks_2samp(a, b)[1]
    elif method == 'wasserstein':
        value = stats.wasserstein_distance(a, b) / max(np.std(a), 0.001)
    elif method == 'chisquare':
        k_norm = len(b) / len(a)
        f_exp = [ca.get(k, 0) * k_norm for k in keys]
        f_obs = [cb.get(k, 0) for k in keys]
        with np.errstate(divide='ignore', invalid='ignore'):
            value = stats.chisquare(f_obs, f_exp)[1]
    elif method == 'z':
        if len(keys) <= 1:
            value = 1.0
        else:
            n1, n2 = len(a), len(b)
            p1, p2 = ca.get(keys[1], 0) / n1, cb.get(keys[1], 0) / n2
            P = (p1 * n1 + p2 * n2) / (n1 + n2)
            z = (p1 - p2) / math.sqrt(P * (1 - P) * (1 / n1 + 1 / n2))
            value = 2 * (1 - stats.norm.cdf(abs(z)))
    else:  # jensenshannon, natural log
        if numeric and len(np.unique(a)) > 20:
            edges = np.histogram_bin_edges(np.concatenate([a, b]), bins='sturges')
            p = np.histogram(a, edges)[0] / len(a)
            q = np.histogram(b, edges)[0] / len(b)
        else:
            p = np.array([ca.get(k, 0) for k in keys]) / len(a)
            q = np.array([cb.get(k, 0) for k in keys]) / len(b)
        value = jensenshannon(p, q)
    return {'method': method, 'value': float(value)}


cases = {}


def numeric_case(name, a, b):
    write_csv(f'{out}/{name}_ref.csv', {'x': list(a), 'tag': ['r'] * len(a)})
    write_csv(f'{out}/{name}_cur.csv', {'x': list(b), 'tag': ['c'] * len(b)})
    cases[name] = {'column': 'x', 'type': 'numeric', 'azure': azure_numeric(a, b),
                   'evidently': evidently(a, b, True), 'psi_quantile': quantile_psi(a, b),
                   'missing_ref': int(np.sum(~np.isfinite(np.asarray(a, float)))),
                   'missing_cur': int(np.sum(~np.isfinite(np.asarray(b, float))))}


def categorical_case(name, a, b):
    write_csv(f'{out}/{name}_ref.csv', {'c': list(a), 'n': list(range(len(a)))})
    write_csv(f'{out}/{name}_cur.csv', {'c': list(b), 'n': list(range(len(b)))})
    cases[name] = {'column': 'c', 'type': 'categorical', 'azure': azure_categorical(a, b),
                   'evidently': evidently(a, b, False),
                   'missing_ref': sum(v is None for v in a), 'missing_cur': sum(v is None for v in b)}


numeric_case('normal_same', rng.normal(0, 1, 2000), rng.normal(0, 1, 1500))
numeric_case('normal_shift', rng.normal(0, 1, 2000), rng.normal(0.3, 1, 1500))
numeric_case('normal_equal_n', rng.normal(0, 1, 500), rng.normal(0.1, 1, 500))
numeric_case('normal_small_shift', rng.normal(0, 1, 800), rng.normal(0.05, 1.1, 700))
numeric_case('lognormal', rng.lognormal(0, 1, 3000), rng.lognormal(0.2, 1.2, 2500))
numeric_case('heavy_ties', np.round(rng.normal(0, 1, 3000), 1) + 0.05, np.round(rng.normal(0.1, 1, 2000), 1) + 0.05)
numeric_case('few_values', rng.choice([0.5, 1.5, 2.5], 600), rng.choice([0.5, 1.5, 2.5], 400, p=[0.5, 0.3, 0.2]))
numeric_case('constant', np.full(300, 3.5), np.full(200, 3.5))
numeric_case('constant_vs_spread', np.full(300, 3.5), rng.normal(3.5, 0.1, 200))
na = rng.normal(0, 1, 1200)
na[rng.random(1200) < 0.1] = np.nan
nb = rng.normal(0.2, 1, 900)
nb[rng.random(900) < 0.2] = np.nan
numeric_case('with_nans', na, nb)
numeric_case('tiny', rng.normal(0, 1, 5), rng.normal(1, 1, 7))
numeric_case('tiny_equal', np.array([0.1, 0.4, 0.7]), np.array([0.2, 0.9, 1.3]))
numeric_case('large_asymp', rng.normal(0, 1, 20000), rng.normal(0.01, 1, 15000))
numeric_case('large_shift', rng.normal(0, 1, 30000), rng.normal(0.05, 1, 25000))
numeric_case('large_unbalanced', rng.normal(0, 1, 12000), rng.normal(0.3, 1, 40))
numeric_case('exact_max', rng.normal(0, 1, 10000), rng.normal(0.02, 1, 9000))

cats = np.array(['a', 'b', 'c', 'd'])
categorical_case('cat_same', list(rng.choice(cats, 3000)), list(rng.choice(cats, 2000)))
categorical_case('cat_shift', list(rng.choice(cats, 3000)), list(rng.choice(cats, 2000, p=[0.4, 0.3, 0.2, 0.1])))
categorical_case('cat_unseen', list(rng.choice(cats, 500)), list(rng.choice(np.append(cats, 'new'), 400)))
categorical_case('cat_single', ['x'] * 200, ['x'] * 150)
categorical_case('cat_binary', list(rng.choice(['yes', 'no'], 800)), list(rng.choice(['yes', 'no'], 600, p=[0.6, 0.4])))
cm = list(rng.choice(cats, 700))
for i in range(0, 700, 9):
    cm[i] = None
categorical_case('cat_missing', cm, list(rng.choice(cats, 900)))
categorical_case('cat_quoted', list(rng.choice(['x, y', 'say "hi"', 'plain'], 300)),
                 list(rng.choice(['x, y', 'say "hi"', 'plain'], 200, p=[0.6, 0.2, 0.2])))

# Distribution functions over every branch of scipy's kolmogn and the exact two-sample path.


def iso(t):
    return np.datetime_as_string(np.datetime64(int(t), 's'), unit='s') + 'Z'


def datetime_case(name, a, b):
    """Timestamps (epoch seconds) compared by their hour-of-day and day-of-week distributions (UTC)
    as categorical features; 1970-01-01 was a Thursday (Monday = 0)."""
    write_csv(f'{out}/{name}_ref.csv', {'t': [iso(t) for t in a], 'n': list(range(len(a)))})
    write_csv(f'{out}/{name}_cur.csv', {'t': [iso(t) for t in b], 'n': list(range(len(b)))})
    days = ['1-Mon', '2-Tue', '3-Wed', '4-Thu', '5-Fri', '6-Sat', '7-Sun']
    for part, label in (('hour_of_day', lambda t: '%02d' % ((int(t) // 3600) % 24)),
                        ('day_of_week', lambda t: days[(int(t) // 86400 + 3) % 7])):
        la, lb = [label(t) for t in a], [label(t) for t in b]
        cases[f'{name}_{part}'] = {'column': 't', 'feature': f't.{part}', 'type': 'datetime', 'data': name,
                                   'azure': azure_categorical(la, lb), 'evidently': evidently(la, lb, False),
                                   'missing_ref': 0, 'missing_cur': 0}


t0 = 1793577600  # 2026-11-02T00:00:00Z, a Monday
datetime_case('dt_same', t0 + rng.integers(0, 28 * 86400, 2000), t0 + rng.integers(0, 28 * 86400, 1500))
# Current traffic at night and on weekends only.
night = t0 + 86400 * rng.integers(0, 28, 1200) + 3600 * rng.integers(0, 6, 1200)
datetime_case('dt_night', t0 + rng.integers(0, 28 * 86400, 2000), night[((night - t0) // 86400) % 7 >= 5])

kstwo = []
for n in [1, 2, 3, 5, 10, 31, 100, 140, 141, 500, 1000, 5000, 20000, 100000, 100001, 400000]:
    for t in [0.6, 0.9, 1.0, 1.5, 2.0, 3.0]:
        x = t / n
        if x < 1:
            kstwo.append([n, x, float(stats.kstwo.sf(x, n))])
    for nx2 in [0.1, 0.5, 0.75, 1.0, 2.0, 3.9, 4.5, 10.0, 17.0, 19.0, 50.0]:
        x = math.sqrt(nx2 / n)
        if x < 1:
            kstwo.append([n, x, float(stats.kstwo.sf(x, n))])
    for x in [0.5, 0.6, 0.95, 1 - 1.0 / n if n > 1 else 0.99]:
        if x < 1:
            kstwo.append([n, x, float(stats.kstwo.sf(x, n))])
smirnov = []
for n in [1, 5, 20, 100, 1012, 1013, 5000, 100000]:
    for x in [0.001, 0.01, 0.05, 0.1, 0.3, 0.5, 0.9]:
        smirnov.append([n, x, float(scipy.special.smirnov(n, x))])
chi2 = [[x, d, float(stats.chi2.sf(x, d))] for x in [0.0, 0.5, 1.0, 3.84, 10.0, 50.0, 300.0] for d in [1, 2, 3, 10, 50]]
ks_exact = []
for n1, n2 in [(3, 4), (10, 10), (7, 13), (50, 60), (100, 100), (200, 301), (1000, 999), (2000, 1500)]:
    a, b = rng.normal(0, 1, n1), rng.normal(0.2, 1, n2)
    r = stats.ks_2samp(a, b)
    ks_exact.append([n1, n2, float(r.statistic), float(r.pvalue)])

# Performance metrics.
perf = {}
labels = np.array(['cat', 'dog', 'eel'])
yt = rng.choice(labels, 1000, p=[0.5, 0.3, 0.2])
yp = np.where(rng.random(1000) < 0.7, yt, rng.choice(labels, 1000))
write_csv(f'{out}/scored_multiclass.csv', {'y': list(yt), 'yhat': list(yp)})


def cls_metrics(yt, yp):
    r = {'accuracy': skm.accuracy_score(yt, yp)}
    for avg in ['macro', 'micro', 'weighted']:
        p, rc, f, _ = skm.precision_recall_fscore_support(yt, yp, average=avg, zero_division=0)
        r[f'precision_{avg}'], r[f'recall_{avg}'], r[f'f1_{avg}'] = p, rc, f
    return {k: float(v) for k, v in r.items()}


perf['multiclass'] = cls_metrics(yt, yp)
# A class that is never predicted (zero division) and numeric labels.
yt2 = rng.choice([1, 2, 10], 300)
yp2 = np.where(yt2 == 10, 2, yt2)
write_csv(f'{out}/scored_zerodiv.csv', {'y': list(yt2.astype(float)), 'yhat': list(yp2.astype(float))})
perf['zerodiv'] = cls_metrics(yt2, yp2)
# Binary with scores (ties in scores on purpose).
yb = rng.integers(0, 2, 2000)
score = np.clip(np.round(0.5 * yb + rng.normal(0.25, 0.25, 2000), 2), 0, 1)
score[:5] = [0.0, 1.0, 0.0, 1.0, 0.5]
ypb = (score >= 0.5).astype(int)
write_csv(f'{out}/scored_binary.csv', {'y': list(yb.astype(float)), 'yhat': list(ypb.astype(float)), 'p': list(score)})
pb = cls_metrics(yb, ypb)
pb['precision'] = float(skm.precision_score(yb, ypb))
pb['recall'] = float(skm.recall_score(yb, ypb))
pb['f1'] = float(skm.f1_score(yb, ypb))
pb['roc_auc'] = float(skm.roc_auc_score(yb, score))
pb['log_loss'] = float(skm.log_loss(yb, score))
perf['binary'] = pb
# Multiclass with one probability column per label (softmax scores, some ties).
logits = rng.normal(0, 1, (1200, 3))
ym = rng.choice(labels, 1200)
for j, lbl in enumerate(labels):
    logits[ym == lbl, j] += 1.0
P = np.exp(np.round(logits, 1))
P /= P.sum(axis=1, keepdims=True)
ypm = labels[P.argmax(axis=1)]
write_csv(f'{out}/scored_multiproba.csv', {'y': list(ym), 'yhat': list(ypm), 'p_cat': list(P[:, 0]),
                                           'p_dog': list(P[:, 1]), 'p_eel': list(P[:, 2])})
pm = cls_metrics(ym, ypm)
pm['roc_auc'] = float(skm.roc_auc_score(ym, P, multi_class='ovr', average='macro', labels=list(labels)))
pm['roc_auc_weighted'] = float(skm.roc_auc_score(ym, P, multi_class='ovr', average='weighted', labels=list(labels)))
pm['log_loss'] = float(skm.log_loss(ym, P, labels=list(labels)))
perf['multiproba'] = pm
# Regression (one zero target for MAPE's epsilon).
y = rng.normal(10, 3, 1500)
y[7] = 0.0
yhat = y + rng.normal(0, 1, 1500)
write_csv(f'{out}/scored_regression.csv', {'y': list(y), 'yhat': list(yhat)})
perf['regression'] = {'mae': float(skm.mean_absolute_error(y, yhat)),
                      'rmse': float(math.sqrt(skm.mean_squared_error(y, yhat))),
                      'r2': float(skm.r2_score(y, yhat)),
                      'mape': float(skm.mean_absolute_percentage_error(y, yhat))}
write_csv(f'{out}/scored_constant.csv', {'y': [2.0] * 10, 'yhat': [2.0] * 10})
perf['constant'] = {'r2': float(skm.r2_score([2.0] * 10, [2.0] * 10))}

with open(f'{out}/reference.json', 'w') as f:
    json.dump({'versions': {'scipy': scipy.__version__, 'numpy': np.__version__, 'sklearn': sklearn.__version__},
               'cases': cases, 'kstwo_sf': kstwo, 'smirnov': smirnov, 'chi2_sf': chi2, 'ks_exact': ks_exact,
               'performance': perf}, f, indent=1)
print(f'wrote {len(cases)} drift cases to {out}')
