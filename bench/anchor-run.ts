/**
 * The AnchorAttention benchmark: for each input and prompt length N, chunked prefill with
 * AnchorAttention against the dense kernel over the same chunks, with the selection's density,
 * stripe share, attention-mass recall, output error against dense, speedup and work bound.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { create, globals } from 'webgpu';
import { acquireGpu } from '../src/gpu/device';
import { createRuntime, type GpuRuntime } from '../src/gpu/dispatch';
import { outputFidelity, workBound } from '../src/attention/metrics';
import { SHORT_CONTEXT_ANCHOR_PARAMS, groupSize, type AnchorParams } from '../src/attention/types';
import { ensureTinyModels } from '../scripts/tiny-models';
import { captureModelHeads, keptHeads, modelInput, RANDOM_WEIGHTS_NOTE, syntheticInput, type BenchInput, type ModelCapture } from './anchor-inputs';
import { anchorSelectionStats, chunkSelections, paramSetsFor, prefillChunks } from './anchor-metrics';
import { FULL_SIZES, QUICK_SIZES, parseBenchOptions, USAGE, type BenchOptions } from './anchor-options';
import { formatMarkdown, formatResultLine, formatTable, type AdapterRecord, type AnchorResult, type BenchRecord } from './anchor-report';
import { PrefillBench, type PhaseTimes, type PrefillMode, type PrefillRun } from './anchor-timing';

Object.assign(globalThis, globals);

// Dawn frees its instance when the object returned by create() is garbage collected, and any later
// device event then crashes the process. A module-level reference keeps the instance alive.
let dawnInstance: GPU | undefined;

const MODELS_ROOT = 'public/models';

const NOTES = [
  'Software adapters (SwiftShader, lavapipe) run on the CPU: their times are not GPU performance. ' +
    'Only ratios measured in one run on one adapter (speedup against dense) are meaningful.',
  `Tiny models have ${RANDOM_WEIGHTS_NOTE}.`,
];

function driverOf(icd: string | null): string {
  if (!icd) return 'default Vulkan loader search';
  if (icd.includes('swiftshader')) return 'SwiftShader';
  if (icd.includes('lvp')) return 'lavapipe';
  return icd;
}

function slugOf(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'adapter';
}

async function openRuntime(options: BenchOptions): Promise<{ runtime: GpuRuntime; adapter: AdapterRecord }> {
  dawnInstance ??= create([]);
  const gpu = await acquireGpu(dawnInstance, {
    onError: (error) => {
      console.error(`WebGPU error: ${error.message}`);
      process.exitCode = 1;
    },
  });
  const profile = gpu.features.timestampQuery && !options.cpuTiming;
  const runtime = createRuntime(gpu, { profile });
  const icd = process.env.VK_ICD_FILENAMES ?? null;
  const driver = driverOf(icd);
  const adapterInfo = (await dawnInstance.requestAdapter())?.info;
  const knownDriver = driver === 'SwiftShader' || driver === 'lavapipe';
  const features = [...gpu.device.features].map(String).sort();
  return {
    runtime,
    adapter: {
      name: gpu.adapterName,
      slug: slugOf(knownDriver ? driver : `${adapterInfo?.vendor ?? ''} ${adapterInfo?.device ?? gpu.adapterName}`),
      driver,
      icd,
      description: adapterInfo?.description || gpu.adapterName,
      timing: profile ? 'timestamp-query' : 'cpu-wall',
      features,
    },
  };
}

/** File-name suffix that keeps a run at other sizes from overwriting the full-size record. */
function sizesSuffix(sizes: number[]): string {
  if (sizes.join(',') === FULL_SIZES.join(',')) return '';
  if (sizes.join(',') === QUICK_SIZES.join(',')) return '-quick';
  return `-n${sizes.join('-')}`;
}

/** Picks the run whose total is the median, so that its phases add up to the reported total. */
function medianRun(runs: PhaseTimes[]): PhaseTimes {
  const total = (t: PhaseTimes) => t.dense + t.select + t.sparse + t.tail;
  const sorted = [...runs].sort((a, b) => total(a) - total(b));
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/**
 * Measures one input at one N per group size. One warm-up run of dense and of each theta also
 * collects the outputs and stripes. Then dense and every theta take turns for `repeat` rounds, so
 * that a change in the machine's load hits all of them alike.
 */
async function benchInput(runtime: GpuRuntime, input: BenchInput, options: BenchOptions, repeat: number, log: (line: string) => void): Promise<AnchorResult[]> {
  const { N, shape } = input.inputs;
  const results: AnchorResult[] = [];
  for (const { name: setName, params: baseParams } of paramSetsFor(N)) {
    const G = groupSize(baseParams);
    const bench = new PrefillBench(runtime, input.inputs, G, options.kvDtype);
    try {
      const modes: PrefillMode[] = [{ kind: 'dense' }, ...options.thetas.map((theta): PrefillMode => ({ kind: 'anchor', params: { ...baseParams, theta } }))];
      const warm: PrefillRun[] = [];
      for (const mode of modes) warm.push(await bench.run(mode, true));
      const runs: PhaseTimes[][] = modes.map(() => []);
      for (let round = 0; round < repeat; round++) {
        for (let index = 0; index < modes.length; index++) runs[index].push((await bench.run(modes[index], false)).times);
      }
      const dense = medianRun(runs[0]);
      log(`  ${input.name}, N = ${N}, ${setName} (G = ${G}): dense ${dense.dense.toFixed(1)} ms`);

      for (let index = 1; index < modes.length; index++) {
        const params = (modes[index] as { params: AnchorParams }).params;
        const anchor = medianRun(runs[index]);
        const chunks = chunkSelections(N, params, warm[index].stripes!);
        const stats = anchorSelectionStats(input.inputs, params, chunks, { last: options.recallLast, random: options.recallRandom, seed: options.seed });
        const fidelity = outputFidelity(warm[index].out!, warm[0].out!);
        const anchorMs = anchor.select + anchor.sparse + anchor.tail;
        const plans = prefillChunks(N, params);
        const result: AnchorResult = {
          input: input.name,
          description: input.description,
          N,
          numHeads: shape.numHeads,
          numKvHeads: shape.numKvHeads,
          headDim: shape.headDim,
          params: { blockSize: params.blockSize, step: params.step, groupSize: G, theta: params.theta, initGroups: params.initGroups, localGroups: params.localGroups },
          anchorChunks: plans.filter((chunk) => chunk.plan === 'anchor').length,
          denseChunks: plans.filter((chunk) => chunk.plan === 'dense').length,
          denseMs: dense.dense,
          selectMs: anchor.select,
          sparseMs: anchor.sparse,
          tailMs: anchor.tail,
          anchorMs,
          speedup: dense.dense / anchorMs,
          workBound: workBound(stats.density),
          density: stats.density,
          stripeShare: stats.stripeShare,
          recallMean: stats.recallMean,
          recallP5: stats.recallP5,
          relativeL2: fidelity.relativeL2,
          cosine: fidelity.cosine,
          withinTolerance: fidelity.withinTolerance,
          sampledRows: stats.sampledRows,
        };
        results.push(result);
        log(formatResultLine(result));
      }
    } finally {
      bench.dispose();
    }
  }
  return results;
}

/** Runs the benchmark; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  let options: BenchOptions | null;
  try {
    options = parseBenchOptions(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (!options) {
    console.log(USAGE);
    return 0;
  }
  const began = performance.now();
  const loadAtStart = loadavg()[0];
  const log = (line: string) => console.log(line);

  const { runtime, adapter } = await openRuntime(options);
  log(`Adapter: ${adapter.name}`);
  log(`Driver: ${adapter.driver}${adapter.icd ? ` (VK_ICD_FILENAMES=${adapter.icd})` : ''}; ${adapter.description}`);
  log(`Host: ${availableParallelism()} CPUs, 1-minute load average ${loadAtStart.toFixed(1)}`);
  log(`Timing: ${adapter.timing}; median of ${options.repeat} interleaved runs after one warm-up; KV cache ${options.kvDtype}`);
  for (const note of NOTES) log(`Note: ${note}`);

  const caps: string[] = [];
  const capped = options.sizes.filter((N) => N >= options.capFrom);
  if (capped.length > 0) {
    const droppedPresets = options.presets.filter((preset) => !options.capPresets.includes(preset));
    if (droppedPresets.length > 0) caps.push(`N = ${capped.join(', ')}: synthetic presets ${droppedPresets.join(', ')} not run (--cap-presets)`);
    if (options.capRepeat !== undefined && options.capRepeat !== options.repeat) {
      caps.push(`N = ${capped.join(', ')}: ${options.capRepeat} timed runs instead of ${options.repeat} (--cap-repeat)`);
    }
  }

  // Model heads: one CPU capture at the longest N per model; shorter prompts take its leading rows.
  const captures: ModelCapture[] = [];
  const modelSizes = options.sizes.filter((N) => N <= options.modelMaxSize);
  const skippedModelSizes = options.sizes.filter((N) => N > options.modelMaxSize);
  if (options.models.length > 0 && skippedModelSizes.length > 0) {
    caps.push(`N = ${skippedModelSizes.join(', ')}: model inputs ${options.models.join(', ')} not run (--model-max-size)`);
  }
  if (options.models.length > 0 && modelSizes.length > 0) {
    await ensureTinyModels(MODELS_ROOT);
    const maxN = modelSizes[modelSizes.length - 1];
    for (const model of options.models) {
      log(`Capturing ${model} on the CPU for ${maxN} tokens ...`);
      captures.push(await captureModelHeads(MODELS_ROOT, model, maxN, options.seed, options.modelLayer, log));
    }
  }

  const results: AnchorResult[] = [];
  for (const N of options.sizes) {
    const isCapped = N >= options.capFrom;
    const inputs: BenchInput[] = [];
    for (const preset of options.presets) {
      if (isCapped && !options.capPresets.includes(preset)) continue;
      inputs.push(syntheticInput(preset, N, options.syntheticHeadDim, options.seed));
    }
    for (const capture of N <= options.modelMaxSize ? captures : []) {
      const shape = { numHeads: capture.config.numHeads, numKvHeads: capture.config.numKvHeads, headDim: capture.config.headDim };
      const limit = isCapped ? Math.min(options.capHeads, options.modelHeads ?? Infinity) : options.modelHeads;
      const heads = keptHeads(shape, limit);
      if (heads < shape.numHeads) caps.push(`N = ${N}: ${capture.model} query heads 0..${heads - 1} of ${shape.numHeads} (--cap-heads, --model-heads)`);
      inputs.push(modelInput(capture, N, heads));
    }
    if (paramSetsFor(N).length === 0) {
      caps.push(`N = ${N}: skipped, shorter than two groups of the smallest G (${groupSize(SHORT_CONTEXT_ANCHOR_PARAMS)})`);
      continue;
    }
    const repeat = isCapped ? (options.capRepeat ?? options.repeat) : options.repeat;
    for (const input of inputs) results.push(...(await benchInput(runtime, input, options, repeat, log)));
  }

  for (const cap of caps) log(`Capped: ${cap}`);
  log('');
  log(formatTable(results));

  const date = new Date().toISOString().slice(0, 10);
  const record: BenchRecord = {
    benchmark: 'anchor-attention',
    date,
    command: `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`,
    adapter,
    options,
    caps,
    notes: NOTES,
    wallSeconds: (performance.now() - began) / 1000,
    host: { cpus: availableParallelism(), loadAverageStart: loadAtStart, loadAverageEnd: loadavg()[0] },
    results,
  };
  await mkdir(options.outDir, { recursive: true });
  const base = join(options.outDir, `anchor-${date}-${adapter.slug}${sizesSuffix(options.sizes)}`);
  await writeFile(`${base}.json`, `${JSON.stringify(record, null, 2)}\n`);
  await writeFile(`${base}.md`, formatMarkdown(record));
  log(`\nWrote ${base}.json and ${base}.md`);
  runtime.device.destroy();
  return 0;
}
