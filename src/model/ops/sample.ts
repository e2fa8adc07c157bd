import { elementCount, type Tensor } from '../../gpu/buffers';
import type { ComputeBatch, GpuRuntime } from '../../gpu/dispatch';
import { composeShader } from '../../gpu/shader';
import sampleWgsl from '../../../shaders/sample.wgsl?raw';
import { checkDType, checkInteger } from './kernel';

export { sampleReference, type SampleOptions, type SampleReferenceResult } from './sample.ref';

/**
 * Invocations per workgroup of every sampling pass; a power of two. 64 rather than 256 cuts the
 * barrier work of each reduction by four, which dominates on software adapters (SwiftShader).
 */
export const SAMPLE_WORKGROUP_SIZE = 64;
/** Logits per invocation in the partial passes: a chunk is 64 · 32 = 2048 logits. */
export const SAMPLE_ITEMS_PER_THREAD = 32;
const SAMPLE_CHUNK = SAMPLE_WORKGROUP_SIZE * SAMPLE_ITEMS_PER_THREAD;

/** Bisection steps that narrow a threshold key from all 2^32 keys down to one. */
const BISECTION_STEPS = 32;

/** Byte offset of State.token in shaders/sample.wgsl (the ninth u32 field). */
const STATE_TOKEN_OFFSET = 8 * 4;
const STATE_BYTES = 48;

const STAGE = { topK: 0, keptMass: 1, topP: 2 } as const;

const OP = 'encodeSample';

interface SampleScratch {
  state: GPUBuffer;
  partials: GPUBuffer;
}

const scratchByRuntime = new WeakMap<GpuRuntime, Map<number, SampleScratch>>();

/**
 * Returns the state and partials buffers for `partialCount` chunks. Every later call with
 * the same count reuses them, which is safe because passes of one queue run in order.
 * They live as long as the runtime.
 */
function sampleScratch(runtime: GpuRuntime, partialCount: number): SampleScratch {
  let byCount = scratchByRuntime.get(runtime);
  if (!byCount) {
    byCount = new Map();
    scratchByRuntime.set(runtime, byCount);
  }
  let scratch = byCount.get(partialCount);
  if (!scratch) {
    scratch = {
      state: runtime.allocator.createBuffer('sample state', STATE_BYTES),
      partials: runtime.allocator.createBuffer('sample partials', partialCount * 8),
    };
    byCount.set(partialCount, scratch);
  }
  return scratch;
}

/**
 * Records the choice of the next token from `logits` into out[0]. temperature 0 is
 * greedy (the lowest index among equal maxima); otherwise the token is drawn from
 * softmax(logits / temperature) restricted by top-k (0 = off) and top-p (1 = off),
 * with `uniform` in [0, 1) drawn by the host. The method is described in shaders/sample.wgsl.
 */
export function encodeSample(
  batch: ComputeBatch,
  {
    logits,
    out,
    temperature,
    topK,
    topP,
    uniform,
  }: { logits: Tensor /* [V] f32 */; out: Tensor /* [1] u32 */; temperature: number; topK: number; topP: number; uniform: number },
): void {
  checkDType(OP, 'logits', logits, ['f32']);
  const vocab = elementCount(logits.shape);
  if (vocab === 0 || logits.shape[logits.shape.length - 1] !== vocab) {
    throw new Error(`${OP}: logits has shape [${logits.shape.join(', ')}], expected [V] or [1, V] with V > 0`);
  }
  checkDType(OP, 'out', out, ['u32']);
  if (elementCount(out.shape) < 1) throw new Error(`${OP}: out has shape [${out.shape.join(', ')}], expected [1]`);
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new Error(`${OP}: temperature is ${temperature}, expected a finite number >= 0`);
  checkInteger(OP, 'topK', topK, 0);
  if (!(topP >= 0 && topP <= 1)) throw new Error(`${OP}: topP is ${topP}, expected a number in [0, 1]`);
  if (!(uniform >= 0 && uniform < 1)) throw new Error(`${OP}: uniform is ${uniform}, expected a number in [0, 1)`);

  const runtime = batch.runtime;
  const partialCount = Math.ceil(vocab / SAMPLE_CHUNK);
  if (partialCount > runtime.device.limits.maxComputeWorkgroupsPerDimension) {
    throw new Error(`${OP}: ${vocab} logits need ${partialCount} workgroups, more than maxComputeWorkgroupsPerDimension`);
  }
  const scratch = sampleScratch(runtime, partialCount);
  const code = composeShader([sampleWgsl]);
  const constants = { WORKGROUP_SIZE: SAMPLE_WORKGROUP_SIZE, ITEMS_PER_THREAD: SAMPLE_ITEMS_PER_THREAD };
  const pipeline = (entryPoint: string) => runtime.pipelines.get(`sample ${entryPoint}`, code, entryPoint, constants);

  const sampling = temperature > 0;
  const topKActive = sampling && topK > 0 && topK < vocab;
  const topPActive = sampling && topP < 1;
  const uniformFor = (stage: number) =>
    batch.uniform([
      ['u32', vocab],
      ['u32', partialCount],
      ['u32', topKActive ? topK : 0],
      ['u32', stage],
      ['f32', temperature],
      ['f32', topPActive ? topP : 1],
      ['f32', uniform],
    ]);
  const paramsTopK = uniformFor(STAGE.topK);
  const bindings = (params: GPUBuffer) => [logits.buffer, params, scratch.state, scratch.partials];
  const countPass = () => batch.dispatch(pipeline('threshold_partial'), bindings(paramsTopK), [partialCount], 'sample');
  const step = (params: GPUBuffer) => batch.dispatch(pipeline('search_step'), bindings(params), [1], 'sample');

  batch.dispatch(pipeline('max_partial'), bindings(paramsTopK), [partialCount], 'sample');
  batch.dispatch(pipeline('max_final'), bindings(paramsTopK), [1], 'sample');
  if (sampling) {
    // TODO: each bisection step is two dispatches (64 per search); folding the step into the next pass would halve them.
    if (topKActive) {
      for (let i = 0; i < BISECTION_STEPS; i++) {
        countPass();
        step(paramsTopK);
      }
    }
    countPass();
    step(uniformFor(STAGE.keptMass));
    if (topPActive) {
      const paramsTopP = uniformFor(STAGE.topP);
      for (let i = 0; i < BISECTION_STEPS; i++) {
        countPass();
        step(paramsTopP);
      }
    }
    countPass();
    batch.dispatch(pipeline('pick'), bindings(paramsTopK), [1], 'sample');
  }
  batch.encoder.copyBufferToBuffer(scratch.state, STATE_TOKEN_OFFSET, out.buffer, 0, 4);
}
