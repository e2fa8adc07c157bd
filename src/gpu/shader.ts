import common from '../../shaders/common.wgsl?raw';

/**
 * Builds a kernel's WGSL: an optional `enable` line, the shared helpers of
 * shaders/common.wgsl, then each source part in order (dtype snippets before the kernel).
 */
export function composeShader(parts: string[], options: { enableF16?: boolean } = {}): string {
  const header = options.enableF16 ? 'enable f16;\n' : '';
  return [header + common, ...parts].join('\n');
}
