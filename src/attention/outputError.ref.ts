/** CPU reference of shaders/attention_error.wgsl in f64. */

/** Returns [H, 2]: per head Σ (got − ref)² and Σ ref² over the first `rows` rows of (T, H, D) arrays. */
export function outputErrorReference(got: Float32Array, ref: Float32Array, rows: number, H: number, D: number): Float64Array {
  const sums = new Float64Array(H * 2);
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < H; h++) {
      for (let d = 0; d < D; d++) {
        const index = (r * H + h) * D + d;
        const diff = got[index] - ref[index];
        sums[h * 2] += diff * diff;
        sums[h * 2 + 1] += ref[index] * ref[index];
      }
    }
  }
  return sums;
}
