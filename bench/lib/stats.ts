// Small statistics for benchmark figures: medians of repeated runs (the machine is shared, so single
// runs are noise) and a least-squares line to say how a figure grows with size.

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const hi = sorted[mid] ?? Number.NaN;
  return sorted.length % 2 === 1 ? hi : ((sorted[mid - 1] ?? hi) + hi) / 2;
}

/** The q-quantile (0..1) by nearest rank: with few runs, a value that was measured. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN
  );
}

export interface Line {
  /** y per unit of x. */
  slope: number;
  intercept: number;
  /** Coefficient of determination: 1 = the points lie on the line (linear growth). */
  r2: number;
}

/** Least-squares line through (x, y). */
export function fitLine(points: readonly { x: number; y: number }[]): Line {
  const n = points.length;
  if (n < 2) return { slope: Number.NaN, intercept: Number.NaN, r2: Number.NaN };
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
    syy += (p.y - my) ** 2;
  }
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  return { slope, intercept, r2 };
}

/**
 * The exponent k in y ~ x^k between the smallest and largest x (1 = linear, 2 = quadratic), from the
 * log-log line through all points: robust to a constant start-up cost only at large x, so it is
 * reported beside the linear fit, not instead of it.
 */
export function growthExponent(points: readonly { x: number; y: number }[]): number {
  const usable = points.filter((p) => p.x > 0 && p.y > 0);
  return fitLine(usable.map((p) => ({ x: Math.log(p.x), y: Math.log(p.y) }))).slope;
}

export const round = (value: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};
