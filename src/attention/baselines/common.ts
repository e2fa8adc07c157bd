/** Ranking and distribution helpers that several selection rules share. */

/**
 * Indices of the `count` largest scores, highest first; equal scores keep the lower index first,
 * so that every rule is deterministic.
 */
export function topIndices(scores: ArrayLike<number>, count: number): Int32Array {
  const order = rankDescending(scores);
  return order.slice(0, Math.max(0, Math.min(count, order.length)));
}

/** Orders all indices by descending score, ties by ascending index. */
export function rankDescending(scores: ArrayLike<number>): Int32Array {
  const order = new Int32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => scores[b] - scores[a] || a - b);
}

/**
 * Selects the smallest prefix of the descending ranking whose scores sum to at least `share` of
 * the total (the "cumulative mass" rule). Returns no index when `share` <= 0, and every index when
 * `share` >= 1 or when rounding keeps the sum below the target.
 */
export function indicesByCumulativeMass(scores: ArrayLike<number>, share: number): Int32Array {
  const order = rankDescending(scores);
  let total = 0;
  for (let i = 0; i < scores.length; i++) total += scores[i];
  if (share <= 0) return order.slice(0, 0);
  if (share >= 1 || !(total > 0)) return order;
  const target = share * total;
  let cumulative = 0;
  let taken = 0;
  while (taken < order.length && cumulative < target) cumulative += scores[order[taken++]];
  return order.slice(0, taken);
}

/**
 * Jensen-Shannon distance sqrt(JSD(a, b)) in nats between two distributions given as non-negative
 * weights (each normalised here); 0 for equal inputs, at most sqrt(ln 2).
 */
export function jensenShannonDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`jensenShannonDistance: lengths ${a.length} and ${b.length} differ`);
  let sumA = 0;
  let sumB = 0;
  for (let i = 0; i < a.length; i++) {
    sumA += a[i];
    sumB += b[i];
  }
  if (!(sumA > 0 && sumB > 0)) throw new Error('jensenShannonDistance: a distribution has no mass');
  let divergence = 0;
  for (let i = 0; i < a.length; i++) {
    const p = a[i] / sumA;
    const q = b[i] / sumB;
    const m = (p + q) / 2;
    // 0 · log(0 / m) is taken as 0.
    if (p > 0) divergence += 0.5 * p * Math.log(p / m);
    if (q > 0) divergence += 0.5 * q * Math.log(q / m);
  }
  return Math.sqrt(Math.max(0, divergence));
}

/** Mean of rows [start, end) of an [N, D] matrix, as f64. */
export function meanRows(x: Float32Array, D: number, start: number, end: number): Float64Array {
  const mean = new Float64Array(D);
  for (let t = start; t < end; t++) {
    for (let d = 0; d < D; d++) mean[d] += x[t * D + d];
  }
  for (let d = 0; d < D; d++) mean[d] /= end - start;
  return mean;
}

/** Softmax of `logits` in place; returns the array. */
export function softmaxInPlace(logits: Float64Array): Float64Array {
  let max = -Infinity;
  for (const value of logits) max = Math.max(max, value);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    logits[i] = Math.exp(logits[i] - max);
    sum += logits[i];
  }
  for (let i = 0; i < logits.length; i++) logits[i] /= sum;
  return logits;
}

export function checkPositiveInteger(op: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${op}: ${name} = ${value} must be a positive integer`);
}

export function checkNonNegativeInteger(op: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) throw new Error(`${op}: ${name} = ${value} must be a non-negative integer`);
}
