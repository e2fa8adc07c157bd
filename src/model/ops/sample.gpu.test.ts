import { describe, expect, it } from 'vitest';
import { gpuRuntime } from '../../../test/gpu';
import { readU32, type Tensor } from '../../gpu/buffers';
import { ComputeBatch, type GpuRuntime } from '../../gpu/dispatch';
import { Random } from '../../util/random';
import { encodeSample, sampleReference, type SampleOptions } from './sample';


/** Samples once per entry of `draws` in one batch and returns the token ids. */
async function sampleOnGpu(runtime: GpuRuntime, logits: Tensor, options: Omit<SampleOptions, 'uniform'>, draws: number[]): Promise<number[]> {
  const outs = draws.map((_, index) => runtime.allocator.createTensor(`token ${index}`, [1], 'u32'));
  const batch = new ComputeBatch(runtime, 'sample');
  draws.forEach((uniform, index) => encodeSample(batch, { logits, out: outs[index], ...options, uniform }));
  await batch.submit();
  const tokens: number[] = [];
  for (const out of outs) {
    tokens.push((await readU32(runtime.device, out))[0]);
    runtime.allocator.destroyTensor(out);
  }
  return tokens;
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

describe('encodeSample greedy', () => {
  for (const vocab of [151_936, 1001]) {
    it(`returns the argmax of ${vocab} logits`, async () => {
      const runtime = await gpuRuntime();
      if (!runtime) return;
      const random = new Random(vocab);
      const values = random.normals(vocab, 3);
      const logits = runtime.allocator.createTensorFrom('logits', [vocab], 'f32', values);
      const [token] = await sampleOnGpu(runtime, logits, { temperature: 0, topK: 0, topP: 1 }, [0.5]);
      expect(token).toBe(argmax(values));
    });
  }

  it('breaks ties toward the lowest index', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const values = new Random(2).normals(5000);
    values[4321] = 50;
    values[77] = 50; // equal maximum at a lower index, in another chunk
    values[3000] = 50;
    const logits = runtime.allocator.createTensorFrom('logits', [values.length], 'f32', values);
    const [token] = await sampleOnGpu(runtime, logits, { temperature: 0, topK: 0, topP: 1 }, [0.5]);
    expect(token).toBe(77);
  });
});

const SAMPLING_CASES: Omit<SampleOptions, 'uniform'>[] = [
  { temperature: 1, topK: 20, topP: 1 },
  { temperature: 0.8, topK: 0, topP: 0.9 },
  { temperature: 1.3, topK: 50, topP: 0.8 },
  { temperature: 0.7, topK: 0, topP: 1 },
  { temperature: 1, topK: 1, topP: 1 },
  { temperature: 1, topK: 0, topP: 0 },
];

describe('encodeSample sampling', () => {
  for (const options of SAMPLING_CASES) {
    it(`keeps the reference's tokens with T=${options.temperature} k=${options.topK} p=${options.topP}`, async () => {
      const runtime = await gpuRuntime();
      if (!runtime) return;
      const vocab = 4099; // three chunks, the last one short
      const random = new Random(17);
      const values = random.normals(vocab, 2);
      values[100] = values[2000] = 6.5; // a tie among the top logits
      const logits = runtime.allocator.createTensorFrom('logits', [vocab], 'f32', values);

      // Draws: the middle of each kept token's interval of running mass (for tokens holding at least
      // 1e-4 of the mass, which f32 rounding cannot move), then random draws and the two ends.
      const reference = sampleReference(values, { ...options, uniform: 0 });
      const total = reference.mass.reduce((sum, mass) => sum + mass, 0);
      const draws: number[] = [];
      let running = 0;
      for (let v = 0; v < vocab; v++) {
        if (reference.kept[v] && reference.mass[v] > 1e-4 * total && draws.length < 32) draws.push((running + reference.mass[v] / 2) / total);
        running += reference.mass[v];
      }
      for (let i = 0; i < 12; i++) draws.push(random.next());
      draws.push(0, 0.9999999);

      const tokens = await sampleOnGpu(runtime, logits, options, draws);

      let boundaryCases = 0;
      tokens.forEach((token, index) => {
        const expected = sampleReference(values, { ...options, uniform: draws[index] });
        expect(expected.kept[token], `token ${token} for draw ${draws[index]} is outside the kept set`).toBe(1);
        if (token === expected.token) return;
        // A different token is only acceptable where the target sits within rounding of the boundary
        // between the two tokens' intervals of running mass.
        let before = 0;
        for (let v = 0; v < token; v++) before += expected.mass[v];
        const tolerance = 1e-5 * total;
        expect(before, `draw ${draws[index]}: token ${token} starts at running mass ${before}, target ${expected.target}`).toBeLessThanOrEqual(expected.target + tolerance);
        expect(before + expected.mass[token]).toBeGreaterThanOrEqual(expected.target - tolerance);
        boundaryCases++;
      });
      console.info(`T=${options.temperature} k=${options.topK} p=${options.topP}: ${boundaryCases} of ${draws.length} draws differ from the reference at a rounding boundary`);
      // Interval midpoints are never within rounding of a boundary, so only the random draws and the ends can differ.
      expect(boundaryCases).toBeLessThanOrEqual(2);
    });
  }

  it('samples from 151936 logits with top-k and top-p', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const vocab = 151_936;
    const random = new Random(23);
    const values = random.normals(vocab, 3);
    const logits = runtime.allocator.createTensorFrom('logits', [vocab], 'f32', values);
    const options = { temperature: 0.9, topK: 40, topP: 0.95 };
    const draws = Array.from({ length: 3 }, () => random.next());

    const tokens = await sampleOnGpu(runtime, logits, options, draws);

    tokens.forEach((token, index) => {
      const expected = sampleReference(values, { ...options, uniform: draws[index] });
      expect(expected.kept[token], `token ${token} is outside the kept set`).toBe(1);
      expect(token).toBe(expected.token);
    });
  });

  it('rejects a uniform outside [0, 1)', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const logits = runtime.allocator.createTensor('logits', [10], 'f32');
    const out = runtime.allocator.createTensor('out', [1], 'u32');
    const batch = new ComputeBatch(runtime, 'sample');
    expect(() => encodeSample(batch, { logits, out, temperature: 1, topK: 0, topP: 1, uniform: 1 })).toThrow('encodeSample: uniform is 1, expected a number in [0, 1)');
  });
});
