/**
 * RoPE inverse frequencies as Hugging Face transformers computes them in f32:
 * inv_freq[i] = 1 / theta^(2i / d) for the d = headDim · partialRotaryFactor rotary
 * dimensions, then rescaled by the config's rope_scaling rule.
 */

/** The rope_scaling field of a config.json; older configs name the rule `type`. */
export interface RopeScaling {
  rope_type?: string;
  type?: string;
  factor: number;
  low_freq_factor?: number;
  high_freq_factor?: number;
  original_max_position_embeddings?: number;
}

export interface RopeOptions {
  headDim: number;
  ropeTheta: number;
  ropeScaling?: RopeScaling | null;
  /** Share of each head's dimensions that rotate (1 when absent). */
  partialRotaryFactor?: number;
}

const f32 = Math.fround;

/** Returns inv_freq of length d / 2 for the rules 'default', 'linear' and 'llama3'; other rules throw. */
export function computeInvFreq({ headDim, ropeTheta, ropeScaling, partialRotaryFactor = 1 }: RopeOptions): Float32Array {
  const dim = Math.floor(headDim * partialRotaryFactor);
  if (!Number.isInteger(headDim) || headDim <= 0 || dim < 2 || dim % 2 !== 0) {
    throw new Error(`computeInvFreq: rotary dimension ${dim} (headDim ${headDim} × partialRotaryFactor ${partialRotaryFactor}) must be an even number >= 2`);
  }
  if (!(ropeTheta > 0)) throw new Error(`computeInvFreq: rope_theta is ${ropeTheta}, expected a positive number`);

  // torch: 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim)), every step rounded to f32.
  const invFreq = new Float32Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) invFreq[i] = f32(1 / f32(ropeTheta ** f32((2 * i) / dim)));

  const rule = ropeScaling?.rope_type ?? ropeScaling?.type ?? 'default';
  if (!ropeScaling || rule === 'default') return invFreq;
  if (!(ropeScaling.factor > 0)) throw new Error(`computeInvFreq: rope_scaling.factor is ${ropeScaling.factor}, expected a positive number`);
  if (rule === 'linear') return invFreq.map((value) => f32(value / ropeScaling.factor));
  if (rule === 'llama3') return applyLlama3Scaling(invFreq, ropeScaling);
  throw new Error(`computeInvFreq: rope_scaling type "${rule}" is not supported; supported types are default, linear and llama3`);
}

/**
 * Applies the llama3 rule: wavelengths longer than original_max_position_embeddings /
 * low_freq_factor are divided by `factor`, those shorter than original / high_freq_factor
 * are kept, and the band between is interpolated smoothly.
 */
function applyLlama3Scaling(invFreq: Float32Array, scaling: RopeScaling): Float32Array {
  const { factor, low_freq_factor: lowFreqFactor, high_freq_factor: highFreqFactor, original_max_position_embeddings: oldContext } = scaling;
  if (lowFreqFactor === undefined || highFreqFactor === undefined || oldContext === undefined) {
    throw new Error('computeInvFreq: llama3 rope_scaling needs low_freq_factor, high_freq_factor and original_max_position_embeddings');
  }
  if (!(highFreqFactor > lowFreqFactor)) {
    throw new Error(`computeInvFreq: llama3 rope_scaling needs high_freq_factor (${highFreqFactor}) > low_freq_factor (${lowFreqFactor})`);
  }
  const lowFreqWavelen = oldContext / lowFreqFactor;
  const highFreqWavelen = oldContext / highFreqFactor;
  return invFreq.map((value) => {
    const wavelen = f32((2 * Math.PI) / value);
    if (wavelen > lowFreqWavelen) return f32(value / factor);
    if (wavelen < highFreqWavelen) return value;
    const smooth = f32((oldContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor));
    return f32(f32((1 - smooth) * f32(value / factor)) + f32(smooth * value));
  });
}
