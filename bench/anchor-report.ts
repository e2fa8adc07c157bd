/** Result records of the AnchorAttention benchmark and their stdout table, JSON and Markdown forms. */
import type { InputDescription } from './anchor-inputs';
import type { BenchOptions } from './anchor-options';
import type { TimingSource } from './anchor-timing';

/** One (input, N, parameters, theta) measurement. Times are medians over the timed runs, in ms. */
export interface AnchorResult {
  input: string;
  description: InputDescription;
  N: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  params: { blockSize: number; step: number; groupSize: number; theta: number; initGroups: number; localGroups: number };
  /** Chunks run by AnchorAttention and by the dense kernel (the tail). */
  anchorChunks: number;
  denseChunks: number;
  denseMs: number;
  /** Steps 1-2 (anchor region and stripe selection). */
  selectMs: number;
  /** Step 3 (the sparse computation). */
  sparseMs: number;
  /** Dense kernel over the tail rows. */
  tailMs: number;
  /** selectMs + sparseMs + tailMs of the run with the median total. */
  anchorMs: number;
  speedup: number;
  workBound: number;
  density: number;
  stripeShare: number;
  recallMean: number;
  recallP5: number;
  relativeL2: number;
  cosine: number;
  /** Share of output elements within 0.01 of dense. */
  withinTolerance: number;
  sampledRows: number;
}

export interface AdapterRecord {
  name: string;
  /** Short name used in file names: the Vulkan driver when known, else the adapter. */
  slug: string;
  driver: string;
  icd: string | null;
  description: string;
  timing: TimingSource;
  features: string[];
}

export interface BenchRecord {
  benchmark: 'anchor-attention';
  date: string;
  command: string;
  adapter: AdapterRecord;
  options: BenchOptions;
  /** Inputs, heads and runs left out to keep the run in budget. */
  caps: string[];
  notes: string[];
  wallSeconds: number;
  /**
   * CPUs and 1-minute load average of the machine running the benchmark. A software adapter runs
   * its shaders on these CPUs, so other processes' load inflates and scatters its times.
   */
  host: { cpus: number; loadAverageStart: number; loadAverageEnd: number };
  results: AnchorResult[];
}

const COLUMNS: [string, (r: AnchorResult) => string][] = [
  ['input', (r) => r.input],
  ['N', (r) => String(r.N)],
  ['H', (r) => `${r.numHeads}/${r.numKvHeads}`],
  ['b,s,G', (r) => `${r.params.blockSize},${r.params.step},${r.params.groupSize}`],
  ['theta', (r) => String(r.params.theta)],
  ['dense ms', (r) => r.denseMs.toFixed(1)],
  ['select ms', (r) => r.selectMs.toFixed(1)],
  ['sparse ms', (r) => r.sparseMs.toFixed(1)],
  ['tail ms', (r) => r.tailMs.toFixed(1)],
  ['density', (r) => r.density.toFixed(3)],
  ['stripes', (r) => r.stripeShare.toFixed(3)],
  ['recall', (r) => r.recallMean.toFixed(4)],
  ['recall p5', (r) => r.recallP5.toFixed(4)],
  ['rel L2', (r) => r.relativeL2.toExponential(2)],
  ['speedup', (r) => `${r.speedup.toFixed(2)}x`],
  ['bound', (r) => `${r.workBound.toFixed(2)}x`],
];

/** Formats the results as a fixed-width text table for stdout. */
export function formatTable(results: AnchorResult[]): string {
  const rows = [COLUMNS.map(([title]) => title), ...results.map((result) => COLUMNS.map(([, cell]) => cell(result)))];
  const widths = COLUMNS.map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const line = (row: string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
  return [line(rows[0]), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** Formats one result as a table row, printed to stdout as soon as it is measured. */
export function formatResultLine(r: AnchorResult): string {
  return formatTable([r]).split('\n')[2];
}

function inputDetails(description: InputDescription): string {
  if (description.kind === 'synthetic') {
    const { preset, seed, headDim, plan } = description;
    const parts = [`preset \`${preset}\`, seed ${seed}, D = ${headDim}`];
    if (plan.heavyColumns.length > 0) parts.push(`heavy columns ${plan.heavyColumns.join(', ')}`);
    if (plan.needleKey !== null) parts.push(`needle key ${plan.needleKey} for rows ${plan.needleRows.join(', ')}`);
    return parts.join('; ');
  }
  const { model, architecture, layer, heads, modelHeads, tokenSeed } = description;
  return `${model} (${architecture}), layer ${layer}, query heads 0..${heads - 1} of ${modelHeads}, token ids uniform over the vocabulary with seed ${tokenSeed}`;
}

/** Formats the Markdown record of one run: adapter, command, caps, the table and how each input was made. */
export function formatMarkdown(record: BenchRecord): string {
  const { adapter } = record;
  const header = COLUMNS.map(([title]) => title);
  const lines = [
    `# AnchorAttention benchmark, ${record.date}, ${adapter.slug}`,
    '',
    `- Adapter: ${adapter.name.includes(adapter.description) ? adapter.name : `${adapter.name} (${adapter.description})`}`,
    `- Driver: ${adapter.driver}${adapter.icd ? ` (VK_ICD_FILENAMES=${adapter.icd})` : ''}`,
    `- Timing: ${adapter.timing === 'timestamp-query' ? 'GPU timestamp queries per pass' : 'CPU wall time around queue.onSubmittedWorkDone per phase'}; median of ${record.options.repeat} interleaved runs after one warm-up`,
    `- KV cache: ${record.options.kvDtype}; wall time of the whole run: ${record.wallSeconds.toFixed(0)} s`,
    `- Host: ${record.host.cpus} CPUs; 1-minute load average ${record.host.loadAverageStart.toFixed(1)} at the start, ${record.host.loadAverageEnd.toFixed(1)} at the end`,
    `- Command: \`${record.command}\``,
    '',
  ];
  for (const note of record.notes) lines.push(`> ${note}`, '');
  if (record.caps.length > 0) {
    lines.push('Capped to stay in budget:', '', ...record.caps.map((cap) => `- ${cap}`), '');
  }
  lines.push(`| ${header.join(' | ')} |`, `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`);
  for (const result of record.results) lines.push(`| ${COLUMNS.map(([, cell]) => cell(result)).join(' | ')} |`);
  // Synthetic heads place their heavy columns and needle by N, so each (input, N) gets its line.
  lines.push('', 'Inputs:', '');
  const seen = new Set<string>();
  for (const result of record.results) {
    const key = `${result.input} at N = ${result.N}`;
    if (seen.has(key)) continue;
    seen.add(key);
    lines.push(`- ${key}: ${inputDetails(result.description)}`);
  }
  lines.push('');
  return lines.join('\n');
}
