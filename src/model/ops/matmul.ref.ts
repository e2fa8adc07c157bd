/**
 * Linear layer, plain loops: out = x · Wᵀ + b.
 * x: (T, C) f32; weight: (OC, C); bias: (OC,) or undefined; returns out (T, OC).
 */
export function matmulReference(x: Float32Array, weight: Float32Array, bias: Float32Array | undefined, rows: number, inFeatures: number, outFeatures: number): Float32Array {
  const out = new Float32Array(rows * outFeatures);
  for (let t = 0; t < rows; t++) {
    const x_t = t * inFeatures;
    for (let o = 0; o < outFeatures; o++) {
      const weight_o = o * inFeatures;
      let sum = 0;
      for (let c = 0; c < inFeatures; c++) sum += x[x_t + c] * weight[weight_o + c];
      out[t * outFeatures + o] = sum + (bias ? bias[o] : 0);
    }
  }
  return out;
}
