/** The models the picker offers: bundled random-weight test models first, then Hugging Face repositories. */

export interface HubModelEntry {
  repoId: string;
  label: string;
  description: string;
}

export const HUB_MODELS: readonly HubModelEntry[] = [
  {
    repoId: 'Qwen/Qwen2.5-0.5B-Instruct',
    label: 'Qwen2.5 0.5B Instruct',
    description: '32k context, about 1 GB of bf16 weights. The default for real GPUs.',
  },
  { repoId: 'Qwen/Qwen3-0.6B', label: 'Qwen3 0.6B', description: '32k context, QK-norm, about 1.5 GB of bf16 weights.' },
  {
    repoId: 'HuggingFaceTB/SmolLM2-360M-Instruct',
    label: 'SmolLM2 360M Instruct',
    description: '8k context, about 0.7 GB of bf16 weights.',
  },
];

export interface BundledModelEntry {
  id: string;
  label: string;
  description: string;
}

/** Names the generator writes; used when /models/index.json cannot be read. */
export const FALLBACK_BUNDLED_MODELS: readonly string[] = ['tiny-qwen2', 'tiny-qwen3', 'tiny-llama'];

export function bundledEntry(id: string): BundledModelEntry {
  return {
    id,
    label: `${id} (random-weight test model)`,
    description: 'Random weights for testing the pipeline: its answers are meaningless.',
  };
}

/**
 * Reads the bundled model names from /models/index.json, which may be a list of names or of
 * objects with a `name` or `id`, or an object with a `models` list of either.
 */
export function parseBundledIndex(json: unknown): string[] {
  const list = Array.isArray(json) ? json : (json as { models?: unknown } | null)?.models;
  if (!Array.isArray(list)) throw new Error('/models/index.json must be a list of model names or an object with a "models" list');
  return list.map((entry: unknown, index) => {
    if (typeof entry === 'string') return entry;
    const named = entry as { name?: unknown; id?: unknown } | null;
    const name = named?.name ?? named?.id;
    if (typeof name !== 'string') throw new Error(`/models/index.json entry ${index} has no name`);
    return name;
  });
}
