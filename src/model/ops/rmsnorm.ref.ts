/**
 * RMSNorm over runs of C elements, plain loops in f32 rounding as PyTorch computes it.
 * x: (R, C) with R runs; weight: (C,); returns out (R, C) = x * rsqrt(mean(x²) + eps) * weight.
 */
export function rmsNormReference(x: Float32Array, weight: Float32Array, eps: number): Float32Array {
  const n = weight.length;
  const out = new Float32Array(x.length);
  for (let x_r = 0; x_r < x.length; x_r += n) {
    let sum = 0;
    for (let c = 0; c < n; c++) sum += x[x_r + c] * x[x_r + c];
    const scale = Math.fround(1 / Math.sqrt(Math.fround(Math.fround(sum / n) + eps)));
    for (let c = 0; c < n; c++) out[x_r + c] = Math.fround(x[x_r + c] * scale) * weight[c];
  }
  return out;
}
