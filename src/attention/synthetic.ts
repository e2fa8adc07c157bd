/**
 * Seeded generator of one attention head's Q, K, V [N, D] (f32, row-major) with planted structure,
 * so that the attention pattern, and which keys a selection must keep, is known in advance.
 *
 * Construction. Scores are s(r, j) = q_r · k_j / sqrt(D). Each enabled component owns one
 * dimension of q and k; the remaining "content" dimensions carry noise. With alpha = 1 / window
 * (0 when the local component is off), define the relative score rho(r, j) = s(r, j) - alpha·r.
 * Softmax is invariant to a per-row constant, so rho gives the same attention as s, and:
 *
 *   ordinary key j:                 rho = -alpha·(r - j) + eps(r, j)
 *   sink key 0:                     rho = sink.strength + eps(r, 0)
 *   heavy column c (rows r >= c):   rho = heavyColumns.strength + eps(r, c)
 *   needle key n, needle rows only: rho = needle.strength + eps(r, n)   (other rows treat n as ordinary)
 *
 * eps(r, j) is the dot product of Gaussian content vectors, with mean 0 and standard deviation
 * `noise` nats. So the diagonal key has rho = 0 (plus noise) and a key `window` tokens back is 1 nat
 * below it: an ALiBi-like linear distance penalty. Ignoring noise, a row's attention is exp(rho)
 * normalised; over a long row the ordinary keys sum to about W = 1 / (1 - exp(-alpha)) (about
 * `window`), or to one per ordinary key when the local component is off. For example the sink's
 * share in row r is close to exp(sink) / (exp(sink) + W + the heavy and needle terms), and the
 * last w ordinary keys hold a share 1 - exp(-w·alpha) of the ordinary-key mass.
 *
 * How the dimensions realise it (each product q[d]·k[d] = sqrt(D)·f(r)·g(j)):
 *   local:  f(r) = 1,                     g(j) = alpha·j for ordinary keys, 0 for sink and heavy keys
 *   sink:   f(r) = sink + alpha·r,        g(0) = 1, else 0
 *   heavy:  f(r) = heavy + alpha·r,       g(c) = 1 for each heavy column, else 0
 *   needle: f(r) = needle + alpha·(r - n) on needle rows, 0 on others;  g(n) = 1, else 0
 * and f, g are split between q and k so that both have the same largest magnitude. Values v are
 * independent standard normals.
 *
 * NOTE: k's local entry and q's planted entries grow like sqrt(alpha·N·sqrt(D)), about 45 for
 * N = 4096, window 16, D = 64; an f16 KV cache rounds such a k entry by up to 1/64, which shifts
 * a score by up to about 0.1 nat there (45 / 64 / sqrt(64)), and more for longer N. Use an f32 cache to compare
 * long synthetic heads exactly.
 */
import { Random } from '../util/random';

export interface SyntheticComponents {
  /** Standard deviation of the random part of every score, in nats. Default 1. */
  noise?: number;
  /** Key 0 scores `strength` nats above the diagonal key for every query. */
  sink?: { strength: number };
  /** Linear distance penalty: a key `window` tokens back scores 1 nat below the diagonal key. */
  local?: { window: number };
  /** Key columns that every later query attends, `strength` nats above the diagonal key. */
  heavyColumns?: {
    strength: number;
    /** Number of columns drawn with the seed from [1, N) when `positions` is not given. Default 4. */
    count?: number;
    positions?: number[];
  };
  /** One key that a few late query rows attend strongly; other rows treat it as ordinary. */
  needle?: {
    strength: number;
    /** Needle key; default drawn with the seed from [N/8, N/2). */
    key?: number;
    /** Needle rows, each after the key; default `rowCount` rows drawn from the last quarter. */
    rows?: number[];
    /** Default 4. */
    rowCount?: number;
  };
}

export interface SyntheticHeadOptions extends SyntheticComponents {
  N: number;
  D: number;
  seed: number;
}

/** Positions of the planted components, so that tests and plots can check the pattern. */
export interface SyntheticPlan {
  /** alpha in nats per token of distance; 0 without the local component. */
  localSlope: number;
  sinkKey: number | null;
  heavyColumns: number[];
  needleKey: number | null;
  needleRows: number[];
  /** Dimension owned by each enabled component; content noise fills the others. */
  dims: { local?: number; sink?: number; heavy?: number; needle?: number };
}

export interface SyntheticHead {
  N: number;
  D: number;
  /** [N, D] f32 each. */
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  plan: SyntheticPlan;
}

export type SyntheticPresetName = 'sink-local' | 'heavy-columns' | 'needle' | 'mixed';

/** Named component sets; use as generateSyntheticHead({ N, D, seed, ...SYNTHETIC_PRESETS.mixed }). They need D >= 5. */
export const SYNTHETIC_PRESETS: Record<SyntheticPresetName, SyntheticComponents> = {
  'sink-local': { noise: 1, sink: { strength: 4 }, local: { window: 16 } },
  'heavy-columns': { noise: 1, sink: { strength: 2 }, local: { window: 16 }, heavyColumns: { strength: 5, count: 4 } },
  needle: { noise: 1, sink: { strength: 2 }, local: { window: 16 }, needle: { strength: 10, rowCount: 4 } },
  mixed: {
    noise: 1,
    sink: { strength: 4 },
    local: { window: 32 },
    heavyColumns: { strength: 4, count: 4 },
    needle: { strength: 10, rowCount: 4 },
  },
};

/** Generates one head from a seed; the same options always give the same tensors. */
export function generateSyntheticHead(options: SyntheticHeadOptions): SyntheticHead {
  const { N, D, seed, sink, local, heavyColumns, needle } = options;
  const noise = options.noise ?? 1;
  if (!Number.isInteger(N) || N < 2 || !Number.isInteger(D) || D < 1) {
    throw new Error(`generateSyntheticHead: N = ${N} must be an integer >= 2 and D = ${D} a positive integer`);
  }
  if (!(noise >= 0)) throw new Error(`generateSyntheticHead: noise ${noise} must be >= 0`);
  if (local && !(local.window > 0)) throw new Error(`generateSyntheticHead: local window ${local.window} must be > 0`);

  // Dimension layout: one per enabled component, then content.
  const dims: SyntheticPlan['dims'] = {};
  let used = 0;
  if (local) dims.local = used++;
  if (sink) dims.sink = used++;
  if (heavyColumns) dims.heavy = used++;
  if (needle) dims.needle = used++;
  const contentDims = D - used;
  if (contentDims < 0 || (noise > 0 && contentDims === 0)) {
    throw new Error(
      `generateSyntheticHead: D = ${D} is too small for ${used} planted components` + (noise > 0 ? ' plus content noise' : ''),
    );
  }

  const rng = new Random(seed);
  const alpha = local ? 1 / local.window : 0;
  const sinkKey = sink ? 0 : null;
  const { needleKey, needleRows } = placeNeedle(N, needle, rng);
  const heavy = placeHeavyColumns(N, heavyColumns, needleKey, rng);

  const q = new Float32Array(N * D);
  const k = new Float32Array(N * D);
  const rootD = Math.sqrt(D);

  // Content: entries N(0, sigma^2) with sigma^2 = noise·sqrt(D / contentDims), so that
  // sum over contentDims of q·k, divided by sqrt(D), has standard deviation `noise`.
  if (contentDims > 0) {
    const sigma = Math.sqrt(noise * Math.sqrt(D / contentDims));
    for (let t = 0; t < N; t++) {
      for (let d = used; d < D; d++) {
        q[t * D + d] = rng.normal() * sigma;
        k[t * D + d] = rng.normal() * sigma;
      }
    }
  }

  const planted = new Set<number>(heavy);
  if (sinkKey !== null) planted.add(sinkKey);
  const needleRowSet = new Set(needleRows);

  // Writes f(r) on q and g(j) on k for one dimension, each scaled so that max |q| = max |k|.
  const writeDim = (dim: number, f: (r: number) => number, g: (j: number) => number) => {
    let maxF = 0;
    let maxG = 0;
    for (let t = 0; t < N; t++) {
      maxF = Math.max(maxF, Math.abs(f(t)));
      maxG = Math.max(maxG, Math.abs(g(t)));
    }
    const balance = maxF > 0 && maxG > 0 ? Math.sqrt(maxF / maxG) : 1;
    const root = Math.sqrt(rootD);
    for (let t = 0; t < N; t++) {
      q[t * D + dim] = (f(t) * root) / balance;
      k[t * D + dim] = g(t) * root * balance;
    }
  };

  if (dims.local !== undefined) {
    writeDim(dims.local, () => 1, (j) => (planted.has(j) ? 0 : alpha * j));
  }
  if (sink && dims.sink !== undefined) {
    writeDim(dims.sink, (r) => sink.strength + alpha * r, (j) => (j === 0 ? 1 : 0));
  }
  if (heavyColumns && dims.heavy !== undefined) {
    const heavySet = new Set(heavy);
    writeDim(dims.heavy, (r) => heavyColumns.strength + alpha * r, (j) => (heavySet.has(j) ? 1 : 0));
  }
  if (needle && dims.needle !== undefined && needleKey !== null) {
    writeDim(
      dims.needle,
      (r) => (needleRowSet.has(r) ? needle.strength + alpha * (r - needleKey) : 0),
      (j) => (j === needleKey ? 1 : 0),
    );
  }

  const v = rng.normals(N * D);
  return {
    N,
    D,
    q,
    k,
    v,
    plan: { localSlope: alpha, sinkKey, heavyColumns: heavy, needleKey, needleRows, dims },
  };
}

function placeNeedle(N: number, needle: SyntheticComponents['needle'], rng: Random): { needleKey: number | null; needleRows: number[] } {
  if (!needle) return { needleKey: null, needleRows: [] };
  const low = Math.max(1, Math.floor(N / 8));
  const high = Math.max(low + 1, Math.floor(N / 2));
  const key = needle.key ?? low + rng.int(high - low);
  if (!Number.isInteger(key) || key < 1 || key >= N - 1) {
    throw new Error(`generateSyntheticHead: needle key ${key} must be an integer in [1, ${N - 1}) so that rows follow it`);
  }
  let rows: number[];
  if (needle.rows) {
    rows = [...new Set(needle.rows)].sort((a, b) => a - b);
  } else {
    const first = Math.max(key + 1, Math.floor((3 * N) / 4));
    const candidates = Array.from({ length: N - first }, (_, i) => first + i);
    rows = drawDistinct(candidates, needle.rowCount ?? 4, rng);
  }
  for (const row of rows) {
    if (!Number.isInteger(row) || row <= key || row >= N) {
      throw new Error(`generateSyntheticHead: needle row ${row} must be an integer in (${key}, ${N})`);
    }
  }
  return { needleKey: key, needleRows: rows };
}

function placeHeavyColumns(N: number, heavy: SyntheticComponents['heavyColumns'], needleKey: number | null, rng: Random): number[] {
  if (!heavy) return [];
  let positions: number[];
  if (heavy.positions) {
    positions = [...new Set(heavy.positions)].sort((a, b) => a - b);
  } else {
    const candidates: number[] = [];
    for (let j = 1; j < N; j++) if (j !== needleKey) candidates.push(j);
    positions = drawDistinct(candidates, heavy.count ?? 4, rng);
  }
  for (const position of positions) {
    // Key 0 is the sink's and the needle key is the needle's: one dimension plants each key once.
    if (!Number.isInteger(position) || position < 1 || position >= N || position === needleKey) {
      throw new Error(`generateSyntheticHead: heavy column ${position} must be an integer in [1, ${N}) other than the needle key`);
    }
  }
  return positions;
}

/** Up to `count` distinct entries of `candidates`, drawn with `rng`, sorted ascending. */
function drawDistinct(candidates: number[], count: number, rng: Random): number[] {
  const pool = [...candidates];
  const take = Math.min(count, pool.length);
  for (let i = 0; i < take; i++) {
    const pick = i + rng.int(pool.length - i);
    [pool[i], pool[pick]] = [pool[pick], pool[i]];
  }
  return pool.slice(0, take).sort((a, b) => a - b);
}
