/**
 * The comparison runner behind bench/compare.ts: parses the options, builds the inputs, sweeps every
 * method on the CPU, times the kernels on the WebGPU adapter at matched recall, and writes
 * bench/results/<date>-<adapter>.{json,md,svg}.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureTinyModels } from '../scripts/tiny-models';
import { captureInputs, modelInput, syntheticInputs, type BenchInput } from './compare-inputs';
import { openGpu, timeKernels, type GpuSession } from './compare-gpu';
import { markdownReport, summaryTable, svgPlot, timingTable, type InputResult, type Report, type TimingResult } from './compare-report';
import { defaultKnobs, matchedPoint, sweepInput, type CurvePoint, type SweepConfig } from './compare-sweep';

const USAGE = `Usage: npx tsx bench/compare.ts [options]

  --quick            N = 512, one tiny model, 1 timing repeat (about a minute on 2 CPU cores)
  --n N              prompt length in tokens of every input (default 1024; capture files are cut to it)
  --capture FILE     also compare every layer of a Q/K/V capture file (src/attention/capture.ts); repeatable
  --target R         mean recall at which methods are matched for the timing (default 0.95)
  --repeats R        timed runs per kernel after one warm-up run (default 3)
  --no-gpu           skip the kernel timing
  --out DIR          output folder (default bench/results)
  --help             print this text`;

const TINY_MODELS = ['tiny-qwen2', 'tiny-qwen3', 'tiny-llama'];

/** Returns the largest power of two <= x (x >= 1). */
function powerOfTwoBelow(x: number): number {
  return 2 ** Math.floor(Math.log2(Math.max(1, x)));
}

/**
 * Sweep settings for prompts of N tokens: FlexPrefill and XAttention use blocks of N/16 (at least 16)
 * and AnchorAttention groups of G = N/8 (b = G/4, s = 4), so that every method gets eight to sixteen
 * blocks. The published defaults (blocks of 128, G = 2048) assume prompts of 8k tokens and more.
 */
export function sweepConfig(N: number): SweepConfig {
  const G = Math.max(16, powerOfTwoBelow(N / 8));
  return {
    blockSize: Math.max(16, powerOfTwoBelow(N / 16)),
    anchor: { blockSize: G / 4, step: 4, initGroups: 1, localGroups: 1, denseLastGroup: false },
    recallRows: { last: 32, random: 96, seed: 1 },
    knobs: defaultKnobs(N),
    flexTau: 0.1,
    streamingSinkTokens: 4,
  };
}

function adapterSlug(adapter: string): string {
  return (
    adapter
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 48) || 'unknown-adapter'
  );
}

/** Drops a point's block masks, which the JSON record leaves out. */
function strip(point: CurvePoint): Omit<CurvePoint, 'blockMasks'> {
  const { blockMasks: _, ...rest } = point;
  return rest;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      n: { type: 'string' },
      capture: { type: 'string', multiple: true, default: [] },
      target: { type: 'string', default: '0.95' },
      repeats: { type: 'string' },
      'no-gpu': { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench/results' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const quickDefaults = { N: 512, repeats: 1 };
  const fullDefaults = { N: 1024, repeats: 3 };
  const defaults = values.quick ? quickDefaults : fullDefaults;
  const N = values.n ? Number(values.n) : defaults.N;
  const targetRecall = Number(values.target);
  const repeats = values.repeats ? Number(values.repeats) : defaults.repeats;
  if (!Number.isInteger(N) || N < 64) throw new Error(`--n ${values.n} must be an integer >= 64`);
  if (!(targetRecall > 0 && targetRecall <= 1)) throw new Error(`--target ${values.target} must be in (0, 1]`);
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`--repeats ${values.repeats} must be a positive integer`);
  const config = sweepConfig(N);
  const started = performance.now();
  const log = (line: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);

  // Inputs.
  await ensureTinyModels();
  const inputs: BenchInput[] = syntheticInputs(N, 64, 1);
  for (const model of values.quick ? TINY_MODELS.slice(0, 1) : TINY_MODELS) {
    inputs.push(await modelInput(join('public/models', model), N, 7));
    log(`captured layer 0 of ${model}`);
  }
  for (const file of values.capture ?? []) inputs.push(...(await captureInputs(file, N)));

  // Curves.
  const curves: InputResult[] = [];
  for (const input of inputs) {
    log(`sweeping ${input.name} (N = ${input.N}, H = ${input.shape.numHeads}, D = ${input.shape.headDim})`);
    const points = sweepInput(input, config, log);
    curves.push({ input: { name: input.name, kind: input.kind, description: input.description, N: input.N, shape: input.shape }, points });
  }
  console.log(`\nPoints closest to mean recall ${targetRecall}:\n\n${summaryTable(curves, targetRecall)}\n`);

  // Kernel timing at matched recall, on synthetic/mixed, the first model input and the first capture.
  const timings: TimingResult[] = [];
  let session: GpuSession | undefined;
  if (!values['no-gpu']) {
    session = await openGpu();
    log(`adapter: ${session.adapterName} (${session.clock})`);
    const timed = [inputs.find((input) => input.name === 'synthetic/mixed'), inputs.find((input) => input.kind === 'model'), inputs.find((input) => input.kind === 'capture')];
    for (const input of timed) {
      if (!input) continue;
      const points = curves.find((curve) => curve.input.name === input.name)!.points;
      const anchor = matchedPoint(points, 'anchor', targetRecall)!;
      const masks: { method: 'flexprefill' | 'xattention'; knob: number; masks: NonNullable<CurvePoint['blockMasks']>; density: number }[] = [];
      const recallAtKnob: Record<string, number> = { anchor: anchor.recallMean };
      for (const method of ['flexprefill', 'xattention'] as const) {
        const point = matchedPoint(points, method, targetRecall);
        if (!point?.blockMasks || point.knob === null) continue;
        masks.push({ method, knob: point.knob, masks: point.blockMasks, density: point.density });
        recallAtKnob[method] = point.recallMean;
      }
      log(`timing kernels on ${input.name}`);
      const kernels = await timeKernels(session, { input, anchorParams: { ...config.anchor, theta: anchor.knob! }, masks, repeats });
      const timing: TimingResult = { input: input.name, N: input.N, shape: input.shape, targetRecall, recallAtKnob, kernels };
      timings.push(timing);
      console.log(`\nKernel times on ${session.adapterName}, ${input.name}:\n\n${timingTable(timing)}\n`);
    }
  }

  // Records.
  const date = new Date().toISOString().slice(0, 10);
  const adapter = session?.adapterName ?? null;
  const base = join(values.out!, `${date}-${adapter ? adapterSlug(adapter) : 'cpu-only'}${values.quick ? '-quick' : ''}`);
  const notes = [
    'Curves come from the CPU references (f64) of every method on the same Q/K/V, scored with src/attention/metrics.ts.',
    `Recall is over ${config.recallRows.last} last rows plus ${config.recallRows.random} random rows per head; density counts every computed pair, anchor region and dense tail included.`,
    `FlexPrefill and XAttention use ${config.blockSize}-token blocks; AnchorAttention uses b = ${config.anchor.blockSize}, s = ${config.anchor.step} (G = ${config.anchor.blockSize * config.anchor.step}), one init and one local group.`,
    'Model inputs come from random-weight test models: their attention patterns are not those of a trained model.',
  ];
  if (session) {
    notes.push(
      `Kernel times are medians of ${repeats} run(s) after a warm-up on ${session.adapterName}, measured by ${session.clock}; ratios within one run compare kernels, absolute times on a software adapter are not GPU performance.`,
    );
  }
  const report: Report = {
    date,
    adapter,
    clock: session?.clock ?? null,
    command: `npx tsx bench/compare.ts ${argv.join(' ')}`.trim(),
    config: { N, targetRecall, repeats, ...config },
    curves: curves.map((curve) => ({ input: curve.input, points: curve.points.map(strip) as CurvePoint[] })),
    timings,
    notes,
  };
  await mkdir(values.out!, { recursive: true });
  await writeFile(`${base}.json`, JSON.stringify(report, null, 1) + '\n');
  await writeFile(`${base}.md`, markdownReport(report, targetRecall) + '\n');
  await writeFile(`${base}.svg`, svgPlot(curves, `Mean recall against density, N = ${N}${adapter ? ` (timings on ${adapter})` : ''}`) + '\n');
  log(`wrote ${base}.json, .md and .svg`);
  session?.runtime.device.destroy();
}
