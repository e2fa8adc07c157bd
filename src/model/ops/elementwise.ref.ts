/** Elementwise ops, plain loops in f32. */

/** x: (T, C), bias: (C,); returns x + bias broadcast over rows. */
export function biasAddReference(x: Float32Array, bias: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let x_t = 0; x_t < x.length; x_t += bias.length) {
    for (let c = 0; c < bias.length; c++) out[x_t + c] = x[x_t + c] + bias[c];
  }
  return out;
}

/** gate, up: (T, I); returns silu(gate) * up with silu(g) = g * sigmoid(g). */
export function siluMulReference(gate: Float32Array, up: Float32Array): Float32Array {
  const out = new Float32Array(gate.length);
  for (let i = 0; i < gate.length; i++) out[i] = (gate[i] / (1 + Math.exp(-gate[i]))) * up[i];
  return out;
}

/** a, b: (T, C); returns a + b. */
export function addReference(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  return out;
}
