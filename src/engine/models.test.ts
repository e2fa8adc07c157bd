import { describe, expect, it } from 'vitest';
import { HUB_MODELS, parseBundledIndex } from './models';

describe('parseBundledIndex', () => {
  it('reads names from objects with an id', () => {
    expect(parseBundledIndex({ models: [{ id: 'tiny-qwen2', path: 'models/tiny-qwen2' }, { id: 'tiny-llama' }] })).toEqual(['tiny-qwen2', 'tiny-llama']);
  });

  it('reads a plain list of names', () => {
    expect(parseBundledIndex(['a', { name: 'b' }])).toEqual(['a', 'b']);
  });

  it('rejects an entry without a name', () => {
    expect(() => parseBundledIndex({ models: [{ path: 'x' }] })).toThrow(/entry 0 has no name/);
  });
});

describe('HUB_MODELS', () => {
  it('lists Qwen2.5-0.5B-Instruct first', () => {
    expect(HUB_MODELS[0].repoId).toBe('Qwen/Qwen2.5-0.5B-Instruct');
    expect(HUB_MODELS.map((model) => model.repoId)).toEqual(['Qwen/Qwen2.5-0.5B-Instruct', 'Qwen/Qwen3-0.6B', 'HuggingFaceTB/SmolLM2-360M-Instruct']);
  });
});
