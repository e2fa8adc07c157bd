/**
 * Symmetric per-group int8 quantization, plain loops. The GPU kernel (shaders/quantize_q8.wgsl)
 * must match it bit for bit.
 * weight: (OC, C) f32 values as the GPU reads them. Groups of `groupSize` run along C, and the
 * last one is shorter when C is not a multiple of it.
 * scale_og = f32(max |w| over the group * f32(1/127)). q_oc = round(w_oc / scale_og) with ties
 * to even, taken on the exact quotient and at most 127 in magnitude. A group of zeros has scale 0 and q 0.
 */

/** f32(1/127), the constant the kernel multiplies by. */
export const INV_127_F32 = Math.fround(1 / 127);

export interface Q8Reference {
  /** (OC, C) quantized values. */
  q: Int8Array;
  /** (OC, ceil(C / groupSize)) scales. */
  scales: Float32Array;
  /** (OC, ceil(C / 4)) q packed four per u32, low byte first, as the GPU stores it. */
  packed: Uint32Array;
}

/** Round-half-to-even of |w| / scale at most 127, by exact comparison with the half-steps (k + 1/2) * scale. */
function quantizeMagnitude(magnitude: number, scale: number): number {
  // (2k + 1) * scale has at most 8 + 24 significant bits, so each product is exact in f64.
  let k = 0;
  while (k < 127 && (k + 0.5) * scale < magnitude) k++;
  if (k < 127 && k % 2 === 1 && (k + 0.5) * scale === magnitude) k++;
  return k;
}

export function quantizeQ8Reference(weight: Float32Array, outFeatures: number, inFeatures: number, groupSize: number): Q8Reference {
  const groupsPerRow = Math.ceil(inFeatures / groupSize);
  const wordsPerRow = Math.ceil(inFeatures / 4);
  const q = new Int8Array(outFeatures * inFeatures);
  const scales = new Float32Array(outFeatures * groupsPerRow);
  const packed = new Uint32Array(outFeatures * wordsPerRow);
  for (let o = 0; o < outFeatures; o++) {
    const weight_o = o * inFeatures;
    for (let g = 0; g < groupsPerRow; g++) {
      const start = g * groupSize;
      const end = Math.min(start + groupSize, inFeatures);
      let maxAbs = 0;
      for (let c = start; c < end; c++) maxAbs = Math.max(maxAbs, Math.abs(weight[weight_o + c]));
      const scale = Math.fround(maxAbs * INV_127_F32);
      scales[o * groupsPerRow + g] = scale;
      for (let c = start; c < end; c++) {
        const w = weight[weight_o + c];
        const magnitude = scale === 0 ? 0 : quantizeMagnitude(Math.abs(w), scale);
        q[weight_o + c] = w < 0 ? -magnitude : magnitude;
      }
    }
    for (let c = 0; c < inFeatures; c++) {
      packed[o * wordsPerRow + (c >> 2)] |= (q[weight_o + c] & 0xff) << (8 * (c & 3));
    }
  }
  return { q, scales, packed };
}

/** (OC, C) weights q * scale rounded to f32, the values the q8 matrix kernels multiply by. */
export function dequantizeQ8Reference(reference: Q8Reference, outFeatures: number, inFeatures: number, groupSize: number): Float32Array {
  const groupsPerRow = Math.ceil(inFeatures / groupSize);
  const weight = new Float32Array(outFeatures * inFeatures);
  for (let o = 0; o < outFeatures; o++) {
    for (let c = 0; c < inFeatures; c++) {
      weight[o * inFeatures + c] = Math.fround(reference.q[o * inFeatures + c] * reference.scales[o * groupsPerRow + Math.floor(c / groupSize)]);
    }
  }
  return weight;
}
