#!/usr/bin/env python3
"""Optional reference-recording tool: runs an INSTALLED pycocotools (not built or shipped by
this project) on fixture directories holding gt.json and dt.json and writes expected.json
beside them with pycocotools' 12 summary numbers and per-class AP.

    PYTHONPATH=/path/to/cocoapi/PythonAPI python3 record-pycocotools.py test/fixtures/coco/*/
    python3 record-pycocotools.py --time GT.json DT.json   # time one evaluation

pycocotools imports matplotlib for its display helpers only; when matplotlib is missing a
stand-in module is registered so that evaluation can run.
"""
import json
import os
import sys
import time
import types
import contextlib
import io

try:
    import matplotlib  # noqa: F401
except ImportError:
    for name in ['matplotlib', 'matplotlib.pyplot', 'matplotlib.collections', 'matplotlib.patches']:
        m = types.ModuleType(name)
        m.PatchCollection = m.Polygon = None
        sys.modules[name] = m
    sys.modules['matplotlib'].use = lambda *a, **k: None

import numpy as np

if not hasattr(np, 'float'):
    np.float = float  # pycocotools uses the alias that newer numpy removed

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

KEYS = ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl']


def evaluate(gt_file, dt_file):
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(gt_file)
        dt = gt.loadRes(dt_file)
        e = COCOeval(gt, dt, 'bbox')
        e.evaluate()
        e.accumulate()
        e.summarize()
    return e


def record(d):
    e = evaluate(os.path.join(d, 'gt.json'), os.path.join(d, 'dt.json'))
    prec = e.eval['precision']  # [T, R, K, A, M]
    per_class = {}
    for k, cat in enumerate(e.params.catIds):
        s = prec[:, :, k, 0, 2]
        s50 = prec[0, :, k, 0, 2]
        per_class[str(cat)] = {
            'AP': float(np.mean(s[s > -1])) if (s > -1).any() else -1.0,
            'AP50': float(np.mean(s50[s50 > -1])) if (s50 > -1).any() else -1.0,
        }
    out = {
        'source': 'pycocotools COCOeval(iouType="bbox"), recorded by scripts/coco-fixtures/record-pycocotools.py',
        'numpy': np.__version__,
        'metrics': {k: float(v) for k, v in zip(KEYS, e.stats)},
        'perClass': per_class,
        # the categories and images as pycocotools loaded and evaluated them (params after evaluate)
        'catIds': [int(c) for c in e.params.catIds],
        'imgIds': [int(i) for i in e.params.imgIds],
    }
    with open(os.path.join(d, 'expected.json'), 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    print(d, ' '.join('%s=%.4f' % (k, v) for k, v in out['metrics'].items()))


def main(argv):
    if argv and argv[0] == '--time':
        t0 = time.perf_counter()
        e = evaluate(argv[1], argv[2])
        t1 = time.perf_counter()
        print(json.dumps({'seconds': t1 - t0, 'metrics': {k: float(v) for k, v in zip(KEYS, e.stats)}}))
        return
    for d in argv:
        record(d.rstrip('/'))


if __name__ == '__main__':
    main(sys.argv[1:])
