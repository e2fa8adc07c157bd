import common from '../../shaders/common.wgsl?raw';

/** A trie of composed sources keyed by their parts, one level per part. */
interface ComposedNode {
  code?: string;
  next: Map<string, ComposedNode>;
}

const composedRoot: ComposedNode = { next: new Map() };

/**
 * Builds a kernel's WGSL: an optional `enable` line, the shared helpers of
 * shaders/common.wgsl, then each source part in order (dtype snippets before the kernel).
 * Ops call this on every dispatch, so the result is memoized per part and the same string
 * object comes back; V8 caches a string's hash on the object, which keeps the pipeline
 * cache's lookup by source from rehashing a kernel's whole text on the decode path.
 */
export function composeShader(parts: string[], options: { enableF16?: boolean } = {}): string {
  const header = options.enableF16 ? 'enable f16;\n' : '';
  let node = composedRoot;
  for (const part of [header, ...parts]) {
    let child = node.next.get(part);
    if (!child) {
      child = { next: new Map() };
      node.next.set(part, child);
    }
    node = child;
  }
  node.code ??= [header + common, ...parts].join('\n');
  return node.code;
}
