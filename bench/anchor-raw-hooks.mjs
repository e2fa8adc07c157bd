// Node module hooks that load `file.wgsl?raw` imports as a default-exported string, as Vite
// does, so the benchmark can import the kernels' host code under tsx without a bundler.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const RAW_SUFFIX = '?raw';

export async function resolve(specifier, context, nextResolve) {
  if (specifier.endsWith(RAW_SUFFIX) && context.parentURL) {
    return { url: new URL(specifier, context.parentURL).href, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (url.endsWith(RAW_SUFFIX)) {
    const path = fileURLToPath(url.slice(0, -RAW_SUFFIX.length));
    const text = await readFile(path, 'utf8');
    return { format: 'module', source: `export default ${JSON.stringify(text)};`, shortCircuit: true };
  }
  return nextLoad(url, context);
}
