/**
 * Side-by-side comparison of AnchorAttention with dense attention and the baseline sparse-prefill
 * methods: recall-versus-density curves on CPU references and kernel timings through Dawn.
 *
 *   npx tsx bench/compare.ts [--quick] [--capture FILE]... [--n N] [--gpu-n N] [--out DIR] [--no-gpu]
 *
 * See bench/README.md for how to read the outputs in bench/results/.
 *
 * The kernels import their WGSL with Vite's `?raw` suffix. Node does not know it, so this entry
 * registers a loader hook that serves such a file as a module exporting its text, and only then
 * imports the runner.
 */
import { register } from 'node:module';

const rawHooks = `
export async function resolve(specifier, context, nextResolve) {
  if (!specifier.endsWith('?raw')) return nextResolve(specifier, context);
  const resolved = await nextResolve(specifier.slice(0, -4), context);
  return { url: resolved.url + '?raw', shortCircuit: true };
}
export async function load(url, context, nextLoad) {
  if (!url.endsWith('?raw')) return nextLoad(url, context);
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(new URL(url.slice(0, -4)), 'utf8');
  return { format: 'module', source: 'export default ' + JSON.stringify(text) + ';', shortCircuit: true };
}
`;
register(`data:text/javascript,${encodeURIComponent(rawHooks)}`);

const { main } = await import('./compare-run');
await main(process.argv.slice(2));
