/** Writers of the comparison's records: the markdown tables and the SVG plot of the recall-versus-density curves. */
import type { BenchInput } from './compare-inputs';
import type { KernelTiming } from './compare-gpu';
import { KNOB_NAMES, matchedPoint, type CurvePoint, type MethodName } from './compare-sweep';

export const METHODS: MethodName[] = ['dense', 'streaming-llm', 'vertical-slash', 'flexprefill', 'xattention', 'oracle', 'anchor'];
const COLORS: Record<MethodName, string> = {
  dense: '#000000',
  'streaming-llm': '#8c564b',
  'vertical-slash': '#9467bd',
  flexprefill: '#1f77b4',
  xattention: '#2ca02c',
  oracle: '#7f7f7f',
  anchor: '#d62728',
};

export interface InputResult {
  input: Pick<BenchInput, 'name' | 'kind' | 'description' | 'N' | 'shape'>;
  points: CurvePoint[];
}

export interface TimingResult {
  input: string;
  N: number;
  shape: BenchInput['shape'];
  targetRecall: number;
  /** Mean recall at the chosen knob of each timed method (from the curve of the same input). */
  recallAtKnob: Record<string, number>;
  kernels: KernelTiming[];
}

export interface Report {
  date: string;
  adapter: string | null;
  clock: string | null;
  command: string;
  config: unknown;
  curves: InputResult[];
  timings: TimingResult[];
  notes: string[];
}

function fixed(value: number | undefined, digits: number): string {
  return value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}

function formatKnob(point: CurvePoint): string {
  return point.knob === null ? '-' : String(point.knob);
}

/** The table printed to the console: per input and method, the point closest to the target recall. */
export function summaryTable(curves: InputResult[], targetRecall: number): string {
  const lines = [
    `| input | method | knob | density | recall mean | recall p5 | rel. L2 vs dense |`,
    `| --- | --- | --- | --- | --- | --- | --- |`,
  ];
  for (const { input, points } of curves) {
    for (const method of METHODS) {
      const point = matchedPoint(points, method, targetRecall);
      if (!point) continue;
      lines.push(
        `| ${input.name} | ${method} | ${KNOB_NAMES[method]} ${formatKnob(point)} | ${fixed(point.density, 3)} | ` +
          `${fixed(point.recallMean, 4)} | ${fixed(point.recallP5, 4)} | ${fixed(point.relativeL2, 4)} |`,
      );
    }
  }
  return lines.join('\n');
}

export function timingTable(timing: TimingResult): string {
  const dense = timing.kernels.find((kernel) => kernel.kernel.startsWith('dense'));
  const lines = [
    `| kernel | knob | density | median ms | selection ms | sparse ms | dense / this | work bound 1/density | rel. L2 vs own ref | rel. L2 vs dense |`,
    `| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |`,
  ];
  for (const kernel of timing.kernels) {
    const ratio = dense ? dense.totalMs / kernel.totalMs : NaN;
    lines.push(
      `| ${kernel.kernel} | ${kernel.knob ?? '-'} | ${fixed(kernel.density, 3)} | ${fixed(kernel.totalMs, 2)} | ${fixed(kernel.selectMs, 2)} | ` +
        `${fixed(kernel.sparseMs, 2)} | ${fixed(ratio, 2)} | ${fixed(1 / kernel.density, 2)} | ${kernel.errorVsReference.toExponential(1)} | ` +
        `${kernel.errorVsDense.toExponential(1)} |`,
    );
  }
  return lines.join('\n');
}

/** Builds the markdown record: setup, summary at the target recall, timings, then every curve point. */
export function markdownReport(report: Report, targetRecall: number): string {
  const parts: string[] = [
    `# Sparse prefill comparison, ${report.date}`,
    '',
    `Command: \`${report.command}\``,
    `Adapter: ${report.adapter ?? 'none (GPU timing skipped)'}${report.clock ? `; timing clock: ${report.clock}` : ''}`,
    '',
    ...report.notes.map((note) => `- ${note}`),
    '',
    '## Inputs',
    '',
    ...report.curves.map(({ input }) => `- **${input.name}**: N = ${input.N}, H = ${input.shape.numHeads}, Hkv = ${input.shape.numKvHeads}, D = ${input.shape.headDim}; ${input.description}`),
    '',
    `## Points closest to mean recall ${targetRecall}`,
    '',
    summaryTable(report.curves, targetRecall),
    '',
  ];
  for (const timing of report.timings) {
    parts.push(
      `## Kernel times on ${report.adapter}: ${timing.input} (N = ${timing.N}, H = ${timing.shape.numHeads}, Hkv = ${timing.shape.numKvHeads}, D = ${timing.shape.headDim})`,
      '',
      `Knobs chosen for mean recall closest to ${timing.targetRecall}: ` +
        Object.entries(timing.recallAtKnob)
          .map(([method, recall]) => `${method} reaches ${recall.toFixed(4)}`)
          .join(', ') +
        '.',
      '',
      timingTable(timing),
      '',
    );
  }
  parts.push('## Every curve point', '');
  for (const { input, points } of report.curves) {
    parts.push(`### ${input.name}`, '', `| method | knob | density | stripe share | recall mean | recall p5 | rel. L2 | cosine | CPU s |`, `| --- | --- | --- | --- | --- | --- | --- | --- | --- |`);
    for (const point of points) {
      parts.push(
        `| ${point.method} | ${KNOB_NAMES[point.method]} ${formatKnob(point)} | ${fixed(point.density, 4)} | ${fixed(point.stripeShare, 4)} | ` +
          `${fixed(point.recallMean, 4)} | ${fixed(point.recallP5, 4)} | ${fixed(point.relativeL2, 4)} | ${fixed(point.cosine, 5)} | ${fixed(point.seconds, 2)} |`,
      );
    }
    parts.push('');
  }
  return parts.join('\n');
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

interface PanelBox {
  x0: number;
  y0: number;
  width: number;
  height: number;
}

/** Appends one input's panel: axes with ticks, then one polyline and its points per method. */
function svgPanel(out: string[], { input, points }: InputResult, box: PanelBox, recallFloor: number): void {
  const { x0, y0, width: w, height: h } = box;
  const sx = (density: number) => x0 + Math.min(1, Math.max(0, density)) * w;
  const sy = (recall: number) => y0 + h - ((Math.max(recallFloor, Math.min(1, recall)) - recallFloor) / (1 - recallFloor)) * h;
  out.push(`<text x="${x0 + w / 2}" y="${y0 - 8}" text-anchor="middle" font-size="11">${escapeXml(`${input.name} (N = ${input.N}, H = ${input.shape.numHeads})`)}</text>`);
  out.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);

  for (let tick = 0; tick <= 4; tick++) {
    const density = tick / 4;
    const recall = recallFloor + ((1 - recallFloor) * tick) / 4;
    out.push(`<line x1="${sx(density)}" y1="${y0 + h}" x2="${sx(density)}" y2="${y0 + h + 4}" stroke="#999"/>`);
    out.push(`<text x="${sx(density)}" y="${y0 + h + 14}" text-anchor="middle">${density.toFixed(2)}</text>`);
    out.push(`<line x1="${x0 - 4}" y1="${sy(recall)}" x2="${x0}" y2="${sy(recall)}" stroke="#999"/>`);
    out.push(`<text x="${x0 - 6}" y="${sy(recall) + 3}" text-anchor="end">${recall.toFixed(3)}</text>`);
  }
  out.push(`<text x="${x0 + w / 2}" y="${y0 + h + 28}" text-anchor="middle">density</text>`);
  out.push(`<text x="${x0 - 38}" y="${y0 + h / 2}" text-anchor="middle" transform="rotate(-90 ${x0 - 38} ${y0 + h / 2})">mean recall</text>`);

  for (const method of METHODS) {
    const series = points.filter((point) => point.method === method).sort((a, b) => a.density - b.density);
    if (series.length === 0) continue;
    const coordinates = series.map((point) => [sx(point.density).toFixed(1), sy(point.recallMean).toFixed(1)]);
    if (series.length > 1) {
      out.push(`<polyline points="${coordinates.map((pair) => pair.join(',')).join(' ')}" fill="none" stroke="${COLORS[method]}" stroke-width="1.5"/>`);
    }
    for (const [cx, cy] of coordinates) out.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${COLORS[method]}"/>`);
  }
}

/**
 * Draws one panel per input, with mean recall (y, from `recallFloor` to 1) against density (x, 0 to
 * 1), one polyline per method through its knob points sorted by density, and a shared legend.
 * Recalls below the floor are drawn on it.
 */
export function svgPlot(curves: InputResult[], title: string, recallFloor = 0.5): string {
  const panelWidth = 300;
  const panelHeight = 230;
  const margin = { left: 48, right: 12, top: 28, bottom: 36 };
  const columns = Math.min(4, Math.max(1, curves.length));
  const rows = Math.ceil(curves.length / columns);
  const legendHeight = 30;
  const width = columns * panelWidth;
  const height = rows * panelHeight + legendHeight + 24;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="10">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="16" text-anchor="middle" font-size="13">${escapeXml(title)}</text>`,
  ];

  curves.forEach((curve, index) => {
    const box = {
      x0: (index % columns) * panelWidth + margin.left,
      y0: 24 + Math.floor(index / columns) * panelHeight + margin.top,
      width: panelWidth - margin.left - margin.right,
      height: panelHeight - margin.top - margin.bottom,
    };
    svgPanel(out, curve, box, recallFloor);
  });

  const legendY = height - legendHeight / 2;
  METHODS.forEach((method, index) => {
    const x = 20 + index * Math.floor((width - 40) / METHODS.length);
    out.push(`<line x1="${x}" y1="${legendY}" x2="${x + 18}" y2="${legendY}" stroke="${COLORS[method]}" stroke-width="2"/>`);
    out.push(`<circle cx="${x + 9}" cy="${legendY}" r="2.5" fill="${COLORS[method]}"/>`);
    out.push(`<text x="${x + 22}" y="${legendY + 3}">${method}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
