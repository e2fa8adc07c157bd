/**
 * CPU reference of shaders/anchor_recall.wgsl: the attention-mass recall of sampled rows of one
 * AnchorAttention group, in f64.
 */
import { anchorInitCount, type AnchorRegion } from './anchorPlan';
import type { AttentionShape } from './types';

/**
 * Returns recall [R, H]: for sampled row r (absolute position rows[i]) and head h, the softmax mass of
 * the full causal row that falls on [0, initCount) ∪ [localStart, r] and on the head's stripes.
 * q: (N, H, D), k: (N, Hkv, D) for the whole prompt; stripes[h] holds head h's keys.
 */
export function anchorRecallReference(
  q: Float32Array,
  k: Float32Array,
  shape: AttentionShape,
  region: AnchorRegion,
  stripes: ArrayLike<number>[],
  rows: ArrayLike<number>,
): Float64Array {
  const { numHeads: H, numKvHeads: Hkv, headDim: D } = shape;
  const scale = 1 / Math.sqrt(D);
  const initCount = anchorInitCount(region);
  const recall = new Float64Array(rows.length * H);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / (H / Hkv));
      const q_rh = (r * H + h) * D;
      const scores = new Float64Array(r + 1);
      let max = -Infinity;
      for (let j = 0; j <= r; j++) {
        const k_jh = (j * Hkv + kvh) * D;
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[q_rh + d] * k[k_jh + d];
        scores[j] = dot * scale;
        max = Math.max(max, scores[j]);
      }
      let total = 0;
      let kept = 0;
      for (let j = 0; j <= r; j++) {
        const p = Math.exp(scores[j] - max);
        total += p;
        if (j < initCount || j >= region.localStart) kept += p;
      }
      for (let s = 0; s < stripes[h].length; s++) kept += Math.exp(scores[stripes[h][s]] - max);
      recall[i * H + h] = kept / total;
    }
  }
  return recall;
}
