import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS, FULL_SIZES, QUICK_SIZES, parseBenchOptions } from './anchor-options';
import { formatMarkdown, formatTable, type AnchorResult, type BenchRecord } from './anchor-report';
import { keptHeads } from './anchor-inputs';
import { paramSetsFor } from './anchor-metrics';

describe('bench options', () => {
  it('defaults to the four full sizes and three runs', () => {
    const options = parseBenchOptions([])!;
    expect(options.sizes).toEqual(FULL_SIZES);
    expect(options.repeat).toBe(3);
    expect(options.thetas).toEqual([12, 6]);
  });

  it('runs 1024 and 2048 with --quick', () => {
    expect(parseBenchOptions(['--quick'])!.sizes).toEqual(QUICK_SIZES);
  });

  it('sorts and deduplicates --sizes', () => {
    expect(parseBenchOptions(['--sizes', '4096,1000,4096'])!.sizes).toEqual([1000, 4096]);
  });

  it('parses caps, presets and models', () => {
    const options = parseBenchOptions(['--cap-from', '4096', '--cap-presets', 'mixed', '--cap-heads', '2', '--cap-repeat', '1', '--models', 'none', '--presets', 'needle,mixed'])!;
    expect([options.capFrom, options.capPresets, options.capHeads, options.capRepeat]).toEqual([4096, ['mixed'], 2, 1]);
    expect(options.models).toEqual([]);
    expect(options.presets).toEqual(['needle', 'mixed']);
  });

  it('returns null for --help', () => {
    expect(parseBenchOptions(['--help'])).toBeNull();
  });

  it.each([
    [['--repeat', '0'], /--repeat must be an integer >= 1/],
    [['--presets', 'stripes'], /unknown preset "stripes"/],
    [['--kv-dtype', 'bf16'], /--kv-dtype must be f32 or f16/],
    [['--thetas', '12,x'], /--thetas needs/],
    [['--sizes'], /--sizes needs/],
    [['--frobnicate'], /unknown option "--frobnicate"/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseBenchOptions(argv)).toThrow(message);
  });

  it('leaves the defaults untouched', () => {
    parseBenchOptions(['--quick', '--repeat', '5']);
    expect(DEFAULT_OPTIONS.sizes).toEqual(FULL_SIZES);
    expect(DEFAULT_OPTIONS.repeat).toBe(3);
  });
});

describe('bench plan', () => {
  it('uses each parameter set from two groups on', () => {
    expect(paramSetsFor(1023).map((set) => set.name)).toEqual([]);
    expect(paramSetsFor(1024).map((set) => set.name)).toEqual(['short-context']);
    expect(paramSetsFor(4095).map((set) => set.name)).toEqual(['short-context']);
    expect(paramSetsFor(4096).map((set) => set.name)).toEqual(['short-context', 'default']);
  });

  it('keeps model heads in whole GQA groups', () => {
    const shape = { numHeads: 14, numKvHeads: 2, headDim: 64 };
    expect(keptHeads(shape, undefined)).toBe(14);
    expect(keptHeads(shape, 9)).toBe(7);
    expect(keptHeads(shape, 1)).toBe(7);
    expect(keptHeads(shape, 20)).toBe(14);
  });
});

describe('bench report', () => {
  const result: AnchorResult = {
    input: 'synthetic mixed',
    description: { kind: 'synthetic', preset: 'mixed', seed: 1, headDim: 64, plan: { sinkKey: 0, heavyColumns: [5, 9], needleKey: 300, needleRows: [1900] } },
    N: 2048,
    numHeads: 1,
    numKvHeads: 1,
    headDim: 64,
    params: { blockSize: 64, step: 8, groupSize: 512, theta: 12, initGroups: 1, localGroups: 1 },
    anchorChunks: 4,
    denseChunks: 0,
    denseMs: 100,
    selectMs: 40,
    sparseMs: 10,
    tailMs: 0,
    anchorMs: 50,
    speedup: 2,
    workBound: 1.5,
    density: 2 / 3,
    stripeShare: 0.1,
    recallMean: 0.99,
    recallP5: 0.95,
    relativeL2: 0.01,
    cosine: 0.9999,
    withinTolerance: 0.98,
    sampledRows: 64,
  };

  it('prints one table row per result under a header', () => {
    const lines = formatTable([result, { ...result, N: 4096 }]).split('\n');
    expect(lines.length).toBe(4);
    expect(lines[0]).toMatch(/^input\s+N\s+H/);
    expect(lines[2]).toContain('2.00x');
    expect(lines[3]).toContain('4096');
  });

  it('names the adapter and the preset seed in the markdown', () => {
    const record: BenchRecord = {
      benchmark: 'anchor-attention',
      date: '2026-01-02',
      command: 'npm run bench -- --quick',
      adapter: { name: 'mesa llvmpipe', slug: 'lavapipe', driver: 'lavapipe', icd: '/icd.json', description: 'llvmpipe', timing: 'timestamp-query', features: [] },
      options: DEFAULT_OPTIONS,
      caps: ['N = 8192: fewer heads'],
      notes: ['software adapter'],
      wallSeconds: 12,
      host: { cpus: 2, loadAverageStart: 1.5, loadAverageEnd: 2.25 },
      results: [result],
    };
    const markdown = formatMarkdown(record);
    expect(markdown).toContain('# AnchorAttention benchmark, 2026-01-02, lavapipe');
    expect(markdown).toContain('VK_ICD_FILENAMES=/icd.json');
    expect(markdown).toContain("preset `mixed`, seed 1");
    expect(markdown).toContain('- N = 8192: fewer heads');
    expect(markdown).toContain('load average 1.5 at the start, 2.3 at the end');
    expect(markdown.split('\n').filter((line) => line.startsWith('| synthetic mixed')).length).toBe(1);
  });
});
