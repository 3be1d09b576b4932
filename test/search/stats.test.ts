/**
 * The one statistical rule (issue 15, item 7): Student's t CDF through the regularized incomplete
 * beta function, against closed forms (df 1, 2, 3), a numeric integration of the t density
 * (fractional df) and values from scipy; Welch's test against scipy.stats.ttest_ind(equal_var=False).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareMeans, logGamma, regularizedBeta, studentTCdf, twoSidedP } from '../../src/search/stats.js';

const close = (a: number, b: number, tol: number, what = '') =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tolerance ${tol})`);

test('logGamma: factorials and Γ(1/2) = √π', () => {
  let f = 1;
  for (let n = 1; n <= 20; n++) {
    close(logGamma(n), Math.log(f), 1e-12 * Math.max(1, Math.log(f)), `ln Γ(${n})`);
    f *= n;
  }
  close(logGamma(0.5), 0.5 * Math.log(Math.PI), 1e-14, 'ln Γ(1/2)');
  close(logGamma(0.25) - logGamma(1.25), Math.log(4), 1e-13, 'Γ(x+1) = x Γ(x)');
});

test('regularizedBeta: closed forms I_x(a,1) = x^a, I_x(1,b) = 1 − (1−x)^b, symmetry', () => {
  for (const x of [0.01, 0.2, 0.5, 0.77, 0.999]) {
    for (const a of [0.5, 1, 2.5, 7]) close(regularizedBeta(x, a, 1), x ** a, 1e-13, `I_${x}(${a},1)`);
    for (const b of [0.5, 3, 11.2]) close(regularizedBeta(x, 1, b), 1 - (1 - x) ** b, 1e-13, `I_${x}(1,${b})`);
    close(regularizedBeta(x, 2.3, 4.1) + regularizedBeta(1 - x, 4.1, 2.3), 1, 1e-13, 'I_x(a,b) + I_{1−x}(b,a) = 1');
  }
  assert.equal(regularizedBeta(0, 2, 3), 0);
  assert.equal(regularizedBeta(1, 2, 3), 1);
});

test('Student t CDF: closed forms for 1, 2 and 3 degrees of freedom', () => {
  for (const t of [-40, -3.1, -1, -0.2, 0, 0.5, 1.7, 6, 100]) {
    close(studentTCdf(t, 1), 0.5 + Math.atan(t) / Math.PI, 1e-13, `df 1, t ${t}`);
    close(studentTCdf(t, 2), 0.5 + t / (2 * Math.sqrt(2 + t * t)), 1e-13, `df 2, t ${t}`);
    const u = t / Math.sqrt(3);
    close(studentTCdf(t, 3), 0.5 + (u / (1 + u * u) + Math.atan(u)) / Math.PI, 1e-13, `df 3, t ${t}`);
  }
});

test('Student t CDF, fractional df: a numeric integration of the density agrees', () => {
  // Simpson's rule on the t density from 0 to t (the CDF is 1/2 there), in log space for the constant
  const density = (x: number, df: number) =>
    Math.exp(logGamma((df + 1) / 2) - logGamma(df / 2) - 0.5 * Math.log(df * Math.PI) - ((df + 1) / 2) * Math.log1p((x * x) / df));
  const simpson = (t: number, df: number, n = 20000) => {
    const h = t / n;
    let s = density(0, df) + density(t, df);
    for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * density(i * h, df);
    return (s * h) / 3;
  };
  for (const df of [0.7, 2.6, 3.52, 7.9, 23.4]) {
    for (const t of [0.3, 1.1, 2.5, 4.2]) {
      close(studentTCdf(t, df), 0.5 + simpson(t, df), 1e-10, `df ${df}, t ${t}`);
      close(studentTCdf(-t, df), 0.5 - simpson(t, df), 1e-10, `df ${df}, t −${t}`);
    }
  }
});

test('Student t: values from scipy.stats.t (scipy 1.17.1) and the normal limit', () => {
  close(twoSidedP(2.5, 4.3), 0.06244807463621133, 1e-12, '2 * t.sf(2.5, 4.3)');
  close(studentTCdf(-0.3, 0.7), 0.4146175931856675, 1e-12, 't.cdf(-0.3, 0.7)');
  close(studentTCdf(12, 2.2), 0.9976082930622413, 1e-12, 't.cdf(12, 2.2)');
  // large df, towards the normal 2 (1 − Φ(1.96)) = 0.0499958
  close(twoSidedP(1.96, 1e4), 0.05002352023183303, 1e-10, '2 * t.sf(1.96, 1e4)');
  close(twoSidedP(1.96, 1e6), 0.04999606758526985, 1e-10, '2 * t.sf(1.96, 1e6)');
  assert.equal(twoSidedP(0, 5), 1);
});

test('compareMeans: Welch t, df and p as scipy.stats.ttest_ind(a, b, equal_var=False)', () => {
  // [statistic, pvalue, df] printed by scipy 1.17.1
  const cases: [number[], number[], number, number, number][] = [
    [[0.301, 0.312, 0.295], [0.281, 0.279, 0.29], 3.212322898605916, 0.03896154697534481, 3.5226888527959064],
    [[0.5, 0.52], [0.3, 0.41, 0.38, 0.29], 5.284229075567876, 0.00830938581417309, 3.584446190102122],
    [[1, 2, 3, 4, 5, 6, 7, 8], [2.5, 2.9, 3.1, 3.0], 1.8551247713991081, 0.10413476949284425, 7.31742286309858],
  ];
  for (const [a, b, t, p, df] of cases) {
    const r = compareMeans(a, b);
    close(r.t!, t, 1e-12, 't');
    close(r.df!, df, 1e-10, 'df');
    close(r.p!, p, 1e-12, 'p');
    close(r.diff, a.reduce((x, y) => x + y) / a.length - b.reduce((x, y) => x + y) / b.length, 1e-15, 'diff');
    close(r.se!, r.diff / t, 1e-14, 'se = diff / t');
    // swapping the samples flips the sign, nothing else
    const s = compareMeans(b, a);
    close(s.t!, -t, 1e-12, 't swapped');
    close(s.p!, p, 1e-15, 'p swapped');
  }
});

test('compareMeans: equal sizes and variances give df = 2(n − 1) and the closed-form p (df 2)', () => {
  const r = compareMeans([0, 2], [1, 3]);
  assert.equal(r.diff, -1);
  close(r.se!, Math.SQRT2, 1e-15, 'se');
  close(r.df!, 2, 1e-12, 'df');
  const t = 1 / Math.SQRT2;
  close(r.p!, 2 * (1 - (0.5 + t / (2 * Math.sqrt(2 + t * t)))), 1e-13, 'p');
});

test('compareMeans: too few values or no spread give no test (null), never a made-up p', () => {
  const one = compareMeans([0.3], [0.2, 0.25]);
  assert.equal(one.sd1, null);
  assert.deepEqual([one.se, one.t, one.df, one.p], [null, null, null, null]);
  close(one.diff, 0.075, 1e-15, 'diff still given');
  const flat = compareMeans([0.3, 0.3], [0.2, 0.2]);
  assert.equal(flat.se, 0);
  assert.deepEqual([flat.t, flat.p], [null, null]);
  // one side constant: df = n − 1 of the other side
  const half = compareMeans([1, 1, 1], [0, 1, 2, 3]);
  close(half.df!, 3, 1e-12, 'df');
});
