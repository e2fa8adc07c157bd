/**
 * RoPE in the rotate-half layout, plain loops, as Hugging Face applies it in f32.
 * x: (T, H, D); invFreq: (R/2,) with R <= D rotary dimensions; returns the rotated copy.
 * The angle is the f32 product position * inv_freq[i]; cos and sin of it are rounded to f32.
 */
export function ropeReference(x: Float32Array, heads: number, headDim: number, invFreq: Float32Array, startPosition: number): Float32Array {
  const out = Float32Array.from(x);
  const half = invFreq.length;
  const rows = x.length / (heads * headDim);
  for (let t = 0; t < rows; t++) {
    for (let h = 0; h < heads; h++) {
      const x_th = (t * heads + h) * headDim;
      for (let i = 0; i < half; i++) {
        const angle = Math.fround((startPosition + t) * invFreq[i]);
        const c = Math.fround(Math.cos(angle));
        const s = Math.fround(Math.sin(angle));
        const x1 = x[x_th + i];
        const x2 = x[x_th + i + half];
        out[x_th + i] = Math.fround(x1 * c) - Math.fround(x2 * s);
        out[x_th + i + half] = Math.fround(x2 * c) + Math.fround(x1 * s);
      }
    }
  }
  return out;
}
