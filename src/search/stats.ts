/** Small statistics used by the loop and the report. */

export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/** Sample standard deviation (n − 1); 0 for a single value. */
export function std(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

export function median(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/**
 * Kendall's tau-b between two paired samples (ties handled as in scipy.stats.kendalltau);
 * null when fewer than 2 pairs or when either side is constant.
 */
export function kendallTau(x: readonly number[], y: readonly number[]): number | null {
  const n = Math.min(x.length, y.length);
  if (n < 2) return null;
  let concordant = 0;
  let discordant = 0;
  let tiesX = 0;
  let tiesY = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = Math.sign(x[i]! - x[j]!);
      const dy = Math.sign(y[i]! - y[j]!);
      if (dx === 0 && dy === 0) continue;
      if (dx === 0) tiesX++;
      else if (dy === 0) tiesY++;
      else if (dx === dy) concordant++;
      else discordant++;
    }
  }
  const denom = Math.sqrt((concordant + discordant + tiesX) * (concordant + discordant + tiesY));
  return denom === 0 ? null : (concordant - discordant) / denom;
}

/** Points not dominated in (smaller size, higher fitness); sorted by size. */
export function paretoFront<T extends { size: number; fitness: number }>(pts: readonly T[]): T[] {
  const sorted = [...pts].sort((a, b) => a.size - b.size || b.fitness - a.fitness);
  const out: T[] = [];
  let best = -Infinity;
  for (const p of sorted) {
    if (p.fitness > best) {
      out.push(p);
      best = p.fitness;
    }
  }
  return out;
}

/** Deterministic 32-bit mix of a seed and small integers / strings (FNV-1a over their text). */
export function mixSeed(...parts: (number | string)[]): number {
  let h = 0x811c9dc5;
  for (const ch of parts.join('|')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

// ---------------------------------------------------------------- the one statistical rule

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error ~1e-15). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x); // reflection
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let s = c[0]!;
  for (let i = 1; i < 9; i++) s += c[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

/** Continued fraction of the incomplete beta function (modified Lentz), for x < (a+1)/(a+b+2). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10000; m++) {
    const m2 = 2 * m;
    // even step
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    // odd step
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b), a, b > 0, 0 ≤ x ≤ 1. */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0) || Number.isNaN(x)) return NaN;
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  // the continued fraction converges fast for x < (a+1)/(a+b+2); else use I_x(a,b) = 1 − I_{1−x}(b,a)
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(lnFront) * betaContinuedFraction(1 - x, b, a)) / b;
}

/** CDF of Student's t distribution with df > 0 degrees of freedom (df may be fractional). */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0) || Number.isNaN(t)) return NaN;
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  // P(|T| > |t|) = I_{df/(df+t²)}(df/2, 1/2)
  const tail = 0.5 * regularizedBeta(df / (df + t * t), df / 2, 0.5);
  return t > 0 ? 1 - tail : tail;
}

/** Two-sided p-value of a t statistic: P(|T| ≥ |t|). */
export function twoSidedP(t: number, df: number): number {
  if (!(df > 0) || Number.isNaN(t)) return NaN;
  if (!Number.isFinite(t)) return 0;
  return regularizedBeta(df / (df + t * t), df / 2, 0.5);
}

/** The comparison of two samples' means (a − b): see compareMeans. */
export interface MeanComparison {
  n1: number;
  n2: number;
  mean1: number;
  mean2: number;
  /** Sample standard deviations (n − 1); null for a single value. */
  sd1: number | null;
  sd2: number | null;
  /** mean(a) − mean(b). */
  diff: number;
  /** Its standard error sqrt(s1²/n1 + s2²/n2); null with fewer than 2 values on a side. */
  se: number | null;
  /** Welch's t = diff / se; null when se is null or 0. */
  t: number | null;
  /** Welch–Satterthwaite degrees of freedom; null when t is. */
  df: number | null;
  /** Two-sided p-value of t on df degrees of freedom; null when t is. */
  p: number | null;
}

/**
 * The project's one rule for "is A different from B" (the search's final verdict, docs/RESULTS.md):
 * the difference of the means, its standard error, Welch's t with Welch–Satterthwaite degrees of
 * freedom and its two-sided p-value (as scipy.stats.ttest_ind(a, b, equal_var=False)). Only the
 * values passed in count: callers leave failed runs out (and show them as failed), never as 0.
 */
export function compareMeans(a: readonly number[], b: readonly number[]): MeanComparison {
  const n1 = a.length;
  const n2 = b.length;
  const mean1 = mean(a);
  const mean2 = mean(b);
  const sd1 = n1 > 1 ? std(a) : null;
  const sd2 = n2 > 1 ? std(b) : null;
  const diff = mean1 - mean2;
  const out: MeanComparison = { n1, n2, mean1, mean2, sd1, sd2, diff, se: null, t: null, df: null, p: null };
  if (sd1 === null || sd2 === null) return out;
  const v1 = sd1 ** 2 / n1;
  const v2 = sd2 ** 2 / n2;
  out.se = Math.sqrt(v1 + v2);
  if (out.se === 0) return out;
  out.t = diff / out.se;
  out.df = (v1 + v2) ** 2 / (v1 ** 2 / (n1 - 1) + v2 ** 2 / (n2 - 1));
  out.p = twoSidedP(out.t, out.df);
  return out;
}
