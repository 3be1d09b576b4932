/**
 * COCO bounding-box evaluation with exactly the semantics of pycocotools' COCOeval
 * (iouType 'bbox', default Params), written for speed: flat typed arrays, one pass per
 * (category, image) group, one score sort per category.
 *
 * The pycocotools behaviours reproduced here, each on purpose:
 * - image ids and category ids are evaluated in ascending numeric order;
 * - a ground-truth box is ignored when it is a crowd (the annotation's `ignore` field is
 *   overwritten by `iscrowd` in pycocotools' _prepare, so it has no effect) or when its
 *   `area` field lies outside the area range (both ends inclusive);
 * - detections are sorted by descending score with a stable sort (ties keep input order),
 *   then cut to the 100 best per image and category before IoUs are computed;
 * - IoU against a crowd box is intersection over the detection's area; a crowd box can be
 *   matched any number of times; matches to ignored boxes make the detection ignored;
 * - greedy matching per IoU threshold: a later ground truth with IoU equal to the best so
 *   far takes the match (`<` comparison), the search stops at the first ignored box once a
 *   regular box is matched, and the threshold is capped at 1 - 1e-10;
 * - a ground truth whose annotation id is 0 counts as "unmatched" when matched (pycocotools
 *   stores the matched id and tests it for truth);
 * - an unmatched detection whose area (w*h) lies outside the area range is ignored;
 * - precision is made monotone from the right and sampled at the recall thresholds
 *   0:0.01:1 with a left-sided search; thresholds past the last recall get precision 0;
 * - a (category, area) cell with no non-ignored ground truth is -1 and left out of means.
 */

export interface CocoDetection {
  image_id: number;
  category_id: number;
  bbox: [number, number, number, number];
  score: number;
}

export interface CocoMetrics {
  AP: number;
  AP50: number;
  AP75: number;
  APs: number;
  APm: number;
  APl: number;
  AR1: number;
  AR10: number;
  AR100: number;
  ARs: number;
  ARm: number;
  ARl: number;
}

export const METRIC_KEYS: readonly (keyof CocoMetrics)[] = [
  'AP',
  'AP50',
  'AP75',
  'APs',
  'APm',
  'APl',
  'AR1',
  'AR10',
  'AR100',
  'ARs',
  'ARm',
  'ARl',
];

/** A ground-truth annotation as the evaluator reads it (extra fields are ignored). */
export interface CocoGtAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  bbox: readonly [number, number, number, number] | readonly number[];
  area: number;
  iscrowd?: 0 | 1 | boolean;
}

/** Ground truth in COCO instances form (a CocoDataset from src/data fits). */
export interface CocoGroundTruth {
  images: readonly { id: number }[];
  annotations: readonly CocoGtAnnotation[];
  categories: readonly { id: number; name?: string }[];
}

export interface PerClassResult {
  categoryId: number;
  name: string;
  /** Non-crowd ground-truth boxes of this class. */
  numGt: number;
  /** Detections of this class (after the per-image cut at 100). */
  numDets: number;
  /** AP@[.5:.95], AP@.5, AP@.75 (area all, maxDets 100); -1 when the class has no ground truth. */
  AP: number;
  AP50: number;
  AP75: number;
  /** AR@100 over IoU .5:.95 (area all); -1 when the class has no ground truth. */
  AR100: number;
}

export interface EvaluateOptions {
  perClass?: boolean;
}

export interface CocoEvalResult {
  metrics: CocoMetrics;
  perClass?: PerClassResult[];
  /** Ascending category ids: the K axis of precision/recall. */
  catIds: number[];
  iouThrs: Float64Array; // [T]
  recThrs: Float64Array; // [R]
  areaLabels: readonly ['all', 'small', 'medium', 'large'];
  maxDets: readonly [1, 10, 100];
  /** pycocotools' eval['precision'], row-major [T, R, K, A, M], -1 where undefined. */
  precision: Float64Array;
  /** pycocotools' eval['recall'], row-major [T, K, A, M], -1 where undefined. */
  recall: Float64Array;
  counts: { T: number; R: number; K: number; A: number; M: number };
}

/** numpy.linspace(start, stop, num) bit for bit (endpoint included). */
function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  const step = (stop - start) / (num - 1);
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  out[num - 1] = stop;
  return out;
}

export const IOU_THRESHOLDS = linspace(0.5, 0.95, 10);
export const RECALL_THRESHOLDS = linspace(0.0, 1.0, 101);
export const AREA_RANGES: readonly (readonly [number, number])[] = [
  [0, 1e10],
  [0, 32 ** 2],
  [32 ** 2, 96 ** 2],
  [96 ** 2, 1e10],
];
const AREA_LABELS = ['all', 'small', 'medium', 'large'] as const;
const MAX_DETS = [1, 10, 100] as const;
const EPS = 2.220446049250313e-16; // np.spacing(1)

// Per-detection status in one (area range, IoU threshold) cell.
const FP = 0;
const TP = 1;
const IGNORED = 2;

/**
 * Evaluates detections against ground truth. Inputs are assumed valid (see
 * `validateGroundTruth` / `validateDetections`); detections whose image or category is not in
 * the ground truth are skipped here (the validators decide whether that is an error).
 */
export function evaluateCoco(gt: CocoGroundTruth, dets: readonly CocoDetection[], opts: EvaluateOptions = {}): CocoEvalResult {
  const T = IOU_THRESHOLDS.length;
  const R = RECALL_THRESHOLDS.length;
  const A = AREA_RANGES.length;
  const M = MAX_DETS.length;
  const maxDetLast = MAX_DETS[M - 1];

  const imgIds = uniqueSorted(gt.images.map((im) => im.id));
  const catIds = uniqueSorted(gt.categories.map((c) => c.id));
  const I = imgIds.length;
  const K = catIds.length;
  const imgIndex = new Map<number, number>();
  imgIds.forEach((id, i) => imgIndex.set(id, i));
  const catIndex = new Map<number, number>();
  catIds.forEach((id, k) => catIndex.set(id, k));
  const nGroups = K * I;

  // ---- ground truth grouped by (category, image), CSR layout, input order kept in a group.
  const anns = gt.annotations;
  const { start: gtStart, order: gtOrder } = groupByCategoryImage(anns, imgIndex, catIndex, I, nGroups);
  const nGt = gtStart[nGroups]!;
  const gtX = new Float64Array(nGt);
  const gtY = new Float64Array(nGt);
  const gtW = new Float64Array(nGt);
  const gtH = new Float64Array(nGt);
  const gtArea = new Float64Array(nGt);
  const gtCrowd = new Uint8Array(nGt);
  const gtIdNonZero = new Uint8Array(nGt);
  for (let p = 0; p < nGt; p++) {
    const a = anns[gtOrder[p]!]!;
    gtX[p] = a.bbox[0]!;
    gtY[p] = a.bbox[1]!;
    gtW[p] = a.bbox[2]!;
    gtH[p] = a.bbox[3]!;
    gtArea[p] = a.area;
    gtCrowd[p] = a.iscrowd ? 1 : 0;
    gtIdNonZero[p] = a.id !== 0 ? 1 : 0;
  }

  // ---- detections grouped the same way, then sorted by score (stable) inside each group.
  const { start: dtStart, order: dtOrder } = groupByCategoryImage(dets, imgIndex, catIndex, I, nGroups); // dtOrder: input index of each detection, by group
  const scoreOf = new Float64Array(dets.length);
  for (let j = 0; j < dets.length; j++) scoreOf[j] = dets[j]!.score;
  const byScoreDesc = (a: number, b: number): number => scoreOf[b]! - scoreOf[a]! || a - b;

  // Per kept detection (rank < 100 inside its group): score, status per (area, IoU thr).
  // Kept detections are stored compactly in group order; keptStart indexes them by group.
  const keptStart = new Int32Array(nGroups + 1);
  for (let g = 0; g < nGroups; g++) {
    keptStart[g + 1] = keptStart[g]! + Math.min(dtStart[g + 1]! - dtStart[g]!, maxDetLast);
  }
  const nKept = keptStart[nGroups]!;
  const keptScore = new Float64Array(nKept);
  const keptRank = new Int32Array(nKept);
  const status = new Uint8Array(nKept * A * T);
  const npig = new Int32Array(nGroups * A); // non-ignored GT per (group, area)

  // Scratch buffers sized for the largest group.
  let maxG = 0;
  for (let g = 0; g < nGroups; g++) maxG = Math.max(maxG, gtStart[g + 1]! - gtStart[g]!);
  const ious = new Float64Array(maxDetLast * Math.max(maxG, 1));
  const gOrd = new Int32Array(maxG);
  const gIg = new Uint8Array(maxG);
  const gCrowdSorted = new Uint8Array(maxG);
  const gtMatched = new Uint8Array(maxG);
  const dX = new Float64Array(maxDetLast);
  const dY = new Float64Array(maxDetLast);
  const dW = new Float64Array(maxDetLast);
  const dH = new Float64Array(maxDetLast);
  const dArea = new Float64Array(maxDetLast);

  for (let g = 0; g < nGroups; g++) {
    const g0 = gtStart[g]!;
    const G = gtStart[g + 1]! - g0;
    const d0 = dtStart[g]!;
    const nd = dtStart[g + 1]! - d0;
    if (G === 0 && nd === 0) continue;

    // Detections of this group, best score first (stable), cut to 100.
    const sub = dtOrder.subarray(d0, d0 + nd);
    if (nd > 1) sub.sort(byScoreDesc);
    const D = Math.min(nd, maxDetLast);
    const k0 = keptStart[g]!;
    for (let r = 0; r < D; r++) {
      const d = dets[sub[r]!]!;
      dX[r] = d.bbox[0];
      dY[r] = d.bbox[1];
      dW[r] = d.bbox[2];
      dH[r] = d.bbox[3];
      dArea[r] = d.bbox[2] * d.bbox[3];
      keptScore[k0 + r] = d.score;
      keptRank[k0 + r] = r;
    }

    // IoU [D, G] against GT in input order (pycocotools' bbIou arithmetic on (x, y, w, h), a crowd
    // GT dividing by the detection's area: not util/iou.ts's corner-box IoU on purpose).
    for (let r = 0; r < D; r++) {
      const x = dX[r]!;
      const y = dY[r]!;
      const w = dW[r]!;
      const h = dH[r]!;
      const da = w * h;
      for (let q = 0; q < G; q++) {
        const p = g0 + q;
        let o = 0;
        const iw = Math.min(w + x, gtW[p]! + gtX[p]!) - Math.max(x, gtX[p]!);
        if (iw > 0) {
          const ih = Math.min(h + y, gtH[p]! + gtY[p]!) - Math.max(y, gtY[p]!);
          if (ih > 0) {
            const inter = iw * ih;
            const u = gtCrowd[p] ? da : da + gtW[p]! * gtH[p]! - inter;
            o = inter / u;
          }
        }
        ious[r * G + q] = o;
      }
    }

    for (let a = 0; a < A; a++) {
      const lo = AREA_RANGES[a]![0];
      const hi = AREA_RANGES[a]![1];
      // GT order: non-ignored first, stable.
      let n = 0;
      let nIg = 0;
      for (let q = 0; q < G; q++) {
        const p = g0 + q;
        const ig = gtCrowd[p] || gtArea[p]! < lo || gtArea[p]! > hi;
        if (!ig) gOrd[n++] = q;
      }
      for (let q = 0; q < G; q++) {
        const p = g0 + q;
        const ig = gtCrowd[p] || gtArea[p]! < lo || gtArea[p]! > hi;
        if (ig) {
          gOrd[n + nIg] = q;
          nIg++;
        }
      }
      npig[g * A + a] = n;
      for (let j = 0; j < G; j++) {
        gIg[j] = j < n ? 0 : 1;
        gCrowdSorted[j] = gtCrowd[g0 + gOrd[j]!]!;
      }

      for (let t = 0; t < T; t++) {
        const thr = Math.min(IOU_THRESHOLDS[t]!, 1 - 1e-10);
        gtMatched.fill(0, 0, G);
        for (let r = 0; r < D; r++) {
          let best = thr;
          let m = -1;
          const row = r * G;
          for (let j = 0; j < G; j++) {
            if (gtMatched[j] && !gCrowdSorted[j]) continue;
            if (m > -1 && gIg[m] === 0 && gIg[j] === 1) break;
            const v = ious[row + gOrd[j]!]!;
            if (v < best) continue;
            best = v;
            m = j;
          }
          const areaOut = dArea[r]! < lo || dArea[r]! > hi;
          let s: number;
          if (m === -1) {
            s = areaOut ? IGNORED : FP;
          } else {
            gtMatched[m] = 1;
            if (gIg[m]) s = IGNORED;
            else if (gtIdNonZero[g0 + gOrd[m]!]) s = TP;
            else s = areaOut ? IGNORED : FP; // matched to a GT with id 0: pycocotools sees "no match"
          }
          status[((k0 + r) * A + a) * T + t] = s;
        }
      }
    }
  }

  // ---- accumulate: per category, all kept detections sorted by score (stable across images).
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  let maxPerCat = 0;
  for (let k = 0; k < K; k++) {
    maxPerCat = Math.max(maxPerCat, keptStart[(k + 1) * I]! - keptStart[k * I]!);
  }
  const order = new Int32Array(maxPerCat);
  const rc = new Float64Array(maxPerCat);
  const pr = new Float64Array(maxPerCat);
  const keptDetsPerCat = new Int32Array(K);
  const byKeptScoreDesc = (a: number, b: number): number => keptScore[b]! - keptScore[a]! || a - b;
  // A category's ranks and statuses gathered in score order, statuses as [A*T][nc]: the scans
  // below read them sequentially instead of jumping through `status` (a cache miss per read).
  const sortedRank = new Int32Array(maxPerCat);
  const sortedStatus = new Uint8Array(maxPerCat * A * T);

  for (let k = 0; k < K; k++) {
    const c0 = keptStart[k * I]!;
    const c1 = keptStart[(k + 1) * I]!;
    const nc = c1 - c0;
    keptDetsPerCat[k] = nc;
    const ord = order.subarray(0, nc);
    for (let j = 0; j < nc; j++) ord[j] = c0 + j;
    ord.sort(byKeptScoreDesc);
    for (let j = 0; j < nc; j++) {
      const d = ord[j]!;
      sortedRank[j] = keptRank[d]!;
      const src = d * A * T;
      for (let q = 0; q < A * T; q++) sortedStatus[q * nc + j] = status[src + q]!;
    }

    for (let a = 0; a < A; a++) {
      let np = 0;
      for (let i = 0; i < I; i++) np += npig[(k * I + i) * A + a]!;
      if (np === 0) continue;
      for (let mi = 0; mi < M; mi++) {
        const maxDet = MAX_DETS[mi]!;
        for (let t = 0; t < T; t++) {
          let tp = 0;
          let fp = 0;
          let n = 0;
          const row = (a * T + t) * nc;
          for (let j = 0; j < nc; j++) {
            if (sortedRank[j]! >= maxDet) continue;
            const s = sortedStatus[row + j]!;
            if (s === IGNORED) continue;
            if (s === TP) tp++;
            else fp++;
            rc[n] = tp / np;
            pr[n] = tp / (fp + tp + EPS);
            n++;
          }
          recall[((t * K + k) * A + a) * M + mi] = n > 0 ? rc[n - 1]! : 0;
          for (let j = n - 1; j > 0; j--) if (pr[j]! > pr[j - 1]!) pr[j - 1] = pr[j]!;
          let pi = 0;
          for (let ri = 0; ri < R; ri++) {
            const thr = RECALL_THRESHOLDS[ri]!;
            while (pi < n && rc[pi]! < thr) pi++;
            const v = pi < n ? pr[pi]! : 0;
            precision[(((t * R + ri) * K + k) * A + a) * M + mi] = v;
          }
        }
      }
    }
  }

  const result: CocoEvalResult = {
    metrics: summarize(precision, recall, K),
    catIds,
    iouThrs: IOU_THRESHOLDS,
    recThrs: RECALL_THRESHOLDS,
    areaLabels: AREA_LABELS,
    maxDets: MAX_DETS,
    precision,
    recall,
    counts: { T, R, K, A, M },
  };
  if (opts.perClass) {
    const names = new Map<number, string>();
    for (const c of gt.categories) names.set(c.id, c.name ?? String(c.id));
    const gtPerCat = new Int32Array(K);
    for (let g = 0; g < nGroups; g++) {
      const k = Math.floor(g / Math.max(I, 1));
      for (let p = gtStart[g]!; p < gtStart[g + 1]!; p++) if (!gtCrowd[p]) gtPerCat[k]!++;
    }
    result.perClass = catIds.map((id, k) => ({
      categoryId: id,
      name: names.get(id) ?? String(id),
      numGt: gtPerCat[k]!,
      numDets: keptDetsPerCat[k]!,
      AP: meanPrecision(precision, K, k, null, 0, 2),
      AP50: meanPrecision(precision, K, k, 0, 0, 2),
      AP75: meanPrecision(precision, K, k, 5, 0, 2),
      AR100: meanRecall(recall, K, k, null, 0, 2),
    }));
  }
  return result;
}

function uniqueSorted(ids: number[]): number[] {
  const u = Array.from(new Set(ids));
  u.sort((a, b) => a - b);
  return u;
}

/**
 * Mean of x[t, r, k, a, m] over values > -1 (x row-major [T, R, K, A, M]); t null = all
 * thresholds, k null = all classes. Precision has R = 101 recall thresholds, recall R = 1.
 */
function meanOver(x: Float64Array, R: number, K: number, k: number | null, t: number | null, a: number, m: number): number {
  const T = IOU_THRESHOLDS.length;
  const A = AREA_RANGES.length;
  const M = MAX_DETS.length;
  let sum = 0;
  let n = 0;
  for (let ti = 0; ti < T; ti++) {
    if (t !== null && ti !== t) continue;
    for (let ri = 0; ri < R; ri++) {
      for (let ki = 0; ki < K; ki++) {
        if (k !== null && ki !== k) continue;
        const v = x[(((ti * R + ri) * K + ki) * A + a) * M + m]!;
        if (v > -1) {
          sum += v;
          n++;
        }
      }
    }
  }
  return n === 0 ? -1 : sum / n;
}

function meanPrecision(p: Float64Array, K: number, k: number | null, t: number | null, a: number, m: number): number {
  return meanOver(p, RECALL_THRESHOLDS.length, K, k, t, a, m);
}

function meanRecall(rec: Float64Array, K: number, k: number | null, t: number | null, a: number, m: number): number {
  return meanOver(rec, 1, K, k, t, a, m);
}

/** The 12 numbers of pycocotools' summarize() for bbox. */
function summarize(precision: Float64Array, recall: Float64Array, K: number): CocoMetrics {
  return {
    AP: meanPrecision(precision, K, null, null, 0, 2),
    AP50: meanPrecision(precision, K, null, 0, 0, 2),
    AP75: meanPrecision(precision, K, null, 5, 0, 2),
    APs: meanPrecision(precision, K, null, null, 1, 2),
    APm: meanPrecision(precision, K, null, null, 2, 2),
    APl: meanPrecision(precision, K, null, null, 3, 2),
    AR1: meanRecall(recall, K, null, null, 0, 0),
    AR10: meanRecall(recall, K, null, null, 0, 1),
    AR100: meanRecall(recall, K, null, null, 0, 2),
    ARs: meanRecall(recall, K, null, null, 1, 2),
    ARm: meanRecall(recall, K, null, null, 2, 2),
    ARl: meanRecall(recall, K, null, null, 3, 2),
  };
}

/** pycocotools' 12-line text summary. */
export function formatSummary(m: CocoMetrics): string {
  const rows: [string, string, string, string, number, number][] = [
    ['Average Precision', '(AP)', '0.50:0.95', 'all', 100, m.AP],
    ['Average Precision', '(AP)', '0.50', 'all', 100, m.AP50],
    ['Average Precision', '(AP)', '0.75', 'all', 100, m.AP75],
    ['Average Precision', '(AP)', '0.50:0.95', 'small', 100, m.APs],
    ['Average Precision', '(AP)', '0.50:0.95', 'medium', 100, m.APm],
    ['Average Precision', '(AP)', '0.50:0.95', 'large', 100, m.APl],
    ['Average Recall', '(AR)', '0.50:0.95', 'all', 1, m.AR1],
    ['Average Recall', '(AR)', '0.50:0.95', 'all', 10, m.AR10],
    ['Average Recall', '(AR)', '0.50:0.95', 'all', 100, m.AR100],
    ['Average Recall', '(AR)', '0.50:0.95', 'small', 100, m.ARs],
    ['Average Recall', '(AR)', '0.50:0.95', 'medium', 100, m.ARm],
    ['Average Recall', '(AR)', '0.50:0.95', 'large', 100, m.ARl],
  ];
  return rows
    .map(
      ([title, type, iou, area, md, v]) =>
        ` ${title.padEnd(18)} ${type} @[ IoU=${iou.padEnd(9)} | area=${area.padStart(6)} | maxDets=${String(md).padStart(3)} ] = ${formatFixed3(v)}`,
    )
    .join('\n');
}

/**
 * Python's '{:0.3f}' of a double: the exact binary value rounded to 3 decimals, exact ties
 * (odd multiples of 1/16) to even. JavaScript's toFixed rounds those ties up instead.
 */
export function formatFixed3(x: number): string {
  const m = x * 16; // exact (power of two)
  if (x >= 0 && Number.isInteger(m) && m % 2 === 1) {
    const n = Math.floor(x * 1000); // x * 1000 = n + 0.5 exactly
    const even = n % 2 === 0 ? n : n + 1;
    return (even / 1000).toFixed(3);
  }
  return x.toFixed(3);
}

/**
 * Groups items by (category, image) in CSR layout: group k·I + i holds the input indices
 * order[start[g] .. start[g+1]) in input order; items of unknown images or categories are left out.
 */
function groupByCategoryImage(
  items: readonly { image_id: number; category_id: number }[],
  imgIndex: Map<number, number>,
  catIndex: Map<number, number>,
  I: number,
  nGroups: number,
): { start: Int32Array; order: Int32Array } {
  const key = new Int32Array(items.length);
  const start = new Int32Array(nGroups + 1);
  for (let j = 0; j < items.length; j++) {
    const it = items[j]!;
    const i = imgIndex.get(it.image_id);
    const k = catIndex.get(it.category_id);
    if (i === undefined || k === undefined) {
      key[j] = -1;
      continue;
    }
    key[j] = k * I + i;
    start[key[j]! + 1]!++;
  }
  for (let g = 0; g < nGroups; g++) start[g + 1]! += start[g]!;
  const order = new Int32Array(start[nGroups]!);
  const fill = start.slice(0, nGroups);
  for (let j = 0; j < items.length; j++) {
    const g = key[j]!;
    if (g >= 0) order[fill[g]!++] = j;
  }
  return { start, order };
}
