import { describe, expect, it } from 'vitest';
import { computeInvFreq } from './rope';

describe('computeInvFreq', () => {
  it('matches theta^(-2i/d) for the default rule', () => {
    const invFreq = computeInvFreq({ headDim: 64, ropeTheta: 1_000_000 });
    expect(invFreq.length).toBe(32);
    expect(invFreq[0]).toBe(1);
    // The exponent and the power are rounded to f32 as in PyTorch: a relative error of a few 1e-7.
    for (let i = 0; i < 32; i++) {
      const exact = 1_000_000 ** (-(2 * i) / 64);
      expect(Math.abs(invFreq[i] - exact) / exact).toBeLessThan(2e-6);
    }
  });

  it('applies the llama3 rule band by band', () => {
    const scaling = { rope_type: 'llama3', factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 };
    const base = computeInvFreq({ headDim: 64, ropeTheta: 500_000 });
    const scaled = computeInvFreq({ headDim: 64, ropeTheta: 500_000, ropeScaling: scaling });
    let kept = 0;
    let divided = 0;
    let smoothed = 0;
    for (let i = 0; i < base.length; i++) {
      const wavelen = (2 * Math.PI) / base[i];
      if (wavelen < 8192 / 4) {
        expect(scaled[i]).toBe(base[i]);
        kept++;
      } else if (wavelen > 8192) {
        expect(scaled[i]).toBeCloseTo(base[i] / 32, 12);
        divided++;
      } else {
        // Between the bands the value moves smoothly from base / factor to base.
        const smooth = (8192 / wavelen - 1) / (4 - 1);
        expect(scaled[i]).toBeCloseTo((1 - smooth) * (base[i] / 32) + smooth * base[i], 7);
        smoothed++;
      }
    }
    expect(kept).toBeGreaterThan(0);
    expect(divided).toBeGreaterThan(0);
    expect(smoothed).toBeGreaterThan(0);
  });

  it('divides by the factor for the linear rule', () => {
    const base = computeInvFreq({ headDim: 16, ropeTheta: 10_000 });
    const scaled = computeInvFreq({ headDim: 16, ropeTheta: 10_000, ropeScaling: { type: 'linear', factor: 4 } });
    scaled.forEach((value, i) => expect(value).toBe(Math.fround(base[i] / 4)));
  });

  it('rotates a share of the head with partialRotaryFactor', () => {
    const invFreq = computeInvFreq({ headDim: 128, ropeTheta: 10_000, partialRotaryFactor: 0.5 });
    expect(invFreq.length).toBe(32);
    expect(invFreq[1]).toBeCloseTo(10_000 ** (-2 / 64), 7);
  });

  it('rejects an unsupported rope_type', () => {
    expect(() => computeInvFreq({ headDim: 64, ropeTheta: 10_000, ropeScaling: { rope_type: 'yarn', factor: 4 } })).toThrow(
      'rope_scaling type "yarn" is not supported',
    );
  });
});
