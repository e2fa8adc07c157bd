import { describe, expect, it } from 'vitest';
import { MemoryModelSource } from '../../test/fsSource';
import { parseModelConfig } from './config';
import { buildSafetensors, parseSafetensorsHeader, parseSafetensorsIndex, tensorBytes } from './safetensors';
import { checkWeightShapes, expectedWeightShapes, forEachWeight } from './weights';

const encoder = new TextEncoder();

/** Builds a safetensors file from a raw header object and a data section of `dataBytes` bytes. */
function rawFile(header: unknown, dataBytes: number): Uint8Array {
  const json = encoder.encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  return out;
}

function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

const TINY_CONFIG = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  hidden_size: 4,
  intermediate_size: 6,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  vocab_size: 10,
  rms_norm_eps: 1e-5,
  max_position_embeddings: 64,
  tie_word_embeddings: true,
};

describe('safetensors', () => {
  it('round-trips tensors, metadata and 8-byte alignment', () => {
    const file = buildSafetensors(
      [
        { name: 'a', dtype: 'F32', shape: [2, 3], data: f32Bytes([1, 2, 3, 4, 5, 6]) },
        { name: 'b', dtype: 'BF16', shape: [3], data: new Uint8Array([1, 2, 3, 4, 5, 6]) },
        { name: 'c', dtype: 'F16', shape: [1], data: new Uint8Array([7, 8]) },
      ],
      { format: 'pt' },
    );
    const header = parseSafetensorsHeader(file, 'round.safetensors');
    expect(header.dataStart % 8).toBe(0);
    expect(header.metadata).toEqual({ format: 'pt' });
    expect(header.tensors.get('a')).toMatchObject({ dtype: 'F32', shape: [2, 3], dataOffsets: [0, 24] });
    expect(header.tensors.get('b')!.dataOffsets[0] % 8).toBe(0);
    expect(Array.from(new Float32Array(tensorBytes(header, file, 'a').slice().buffer))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(tensorBytes(header, file, 'b'))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(tensorBytes(header, file, 'c'))).toEqual([7, 8]);
  });

  it('rejects a file shorter than the length prefix', () => {
    expect(() => parseSafetensorsHeader(new Uint8Array(5), 'short.safetensors')).toThrow(/short.safetensors: file is 5 bytes, too short/);
  });

  it('rejects a truncated file', () => {
    const file = buildSafetensors([{ name: 'weight', dtype: 'F32', shape: [4], data: f32Bytes([1, 2, 3, 4]) }]);
    const truncated = file.subarray(0, file.byteLength - 8);
    expect(() => parseSafetensorsHeader(truncated, 'cut.safetensors')).toThrow(/cut.safetensors: tensor "weight" has data_offsets \[0, 16\] past the end of the 8-byte data section/);
  });

  it('rejects a header longer than the file', () => {
    const file = rawFile({}, 0);
    new DataView(file.buffer).setBigUint64(0, 5000n, true);
    expect(() => parseSafetensorsHeader(file, 'big.safetensors')).toThrow(/header length 5000 runs past the end of the \d+-byte file; the file is truncated/);
  });

  it('rejects offsets past the end of the file', () => {
    const file = rawFile({ x: { dtype: 'F32', shape: [4], data_offsets: [16, 32] } }, 16);
    expect(() => parseSafetensorsHeader(file, 'past.safetensors')).toThrow(/tensor "x" has data_offsets \[16, 32\] past the end of the 16-byte data section/);
  });

  it('rejects an unknown dtype by name', () => {
    const file = rawFile({ x: { dtype: 'Q4_K', shape: [2], data_offsets: [0, 8] } }, 8);
    expect(() => parseSafetensorsHeader(file, 'q.safetensors')).toThrow(/q.safetensors: tensor "x" has unknown dtype "Q4_K"/);
  });

  it('rejects a known but unsupported dtype by name', () => {
    const file = rawFile({ x: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, 8);
    expect(() => parseSafetensorsHeader(file, 'i.safetensors')).toThrow(/tensor "x" has dtype I64, which is not supported; supported dtypes are F32, F16 and BF16/);
  });

  it('rejects offsets that disagree with shape and dtype', () => {
    const file = rawFile({ x: { dtype: 'F16', shape: [3, 2], data_offsets: [0, 8] } }, 16);
    expect(() => parseSafetensorsHeader(file, 'n.safetensors')).toThrow(/tensor "x" of shape \[3, 2\] F16 needs 12 bytes, but data_offsets \[0, 8\] span 8/);
  });

  it('rejects overlapping tensors', () => {
    const file = rawFile(
      { x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, y: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
      16,
    );
    expect(() => parseSafetensorsHeader(file, 'o.safetensors')).toThrow(/tensor "y" at \[4, 12\] overlaps tensor "x" at \[0, 8\]/);
  });

  it('rejects an invalid shape and invalid offsets', () => {
    expect(() => parseSafetensorsHeader(rawFile({ x: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }, 0), 's.safetensors')).toThrow(/invalid shape \[-1\]/);
    expect(() => parseSafetensorsHeader(rawFile({ x: { dtype: 'F32', shape: [1], data_offsets: [4] } }, 4), 's.safetensors')).toThrow(/invalid data_offsets \[4\]/);
  });

  it('rejects a header that is not JSON', () => {
    const file = rawFile({}, 0);
    file[8] = 0x7b;
    file[9] = 0x7b;
    expect(() => parseSafetensorsHeader(file, 'j.safetensors')).toThrow(/j.safetensors: header is not valid JSON/);
  });

  it('parses a shard index', () => {
    const index = parseSafetensorsIndex({ metadata: {}, weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors', c: 'model-00001-of-00002.safetensors' } });
    expect(index.files).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    expect(index.weightMap.get('b')).toBe('model-00002-of-00002.safetensors');
    expect(() => parseSafetensorsIndex({ weight_map: { a: '../secret' } })).toThrow(/weight_map entry "a" must name a shard file/);
  });
});

describe('weight shapes', () => {
  const config = parseModelConfig(TINY_CONFIG);

  it('expects every tensor of the config', () => {
    const shapes = expectedWeightShapes(config);
    expect(shapes.get('model.embed_tokens.weight')).toEqual([10, 4]);
    expect(shapes.get('model.layers.0.self_attn.q_proj.weight')).toEqual([4, 4]);
    expect(shapes.get('model.layers.0.self_attn.k_proj.weight')).toEqual([2, 4]);
    expect(shapes.get('model.layers.0.mlp.down_proj.weight')).toEqual([4, 6]);
    expect(shapes.has('lm_head.weight')).toBe(false);
    expect(shapes.size).toBe(11);
  });

  it('rejects a tensor whose shape disagrees with config.json', () => {
    const file = buildSafetensors([{ name: 'model.layers.0.self_attn.k_proj.weight', dtype: 'F32', shape: [4, 4], data: new Uint8Array(64) }]);
    const header = parseSafetensorsHeader(file, 'model.safetensors');
    expect(() => checkWeightShapes(header, expectedWeightShapes(config))).toThrow(
      /model.safetensors: tensor "model.layers.0.self_attn.k_proj.weight" has shape \[4, 4\], but config.json implies \[2, 4\]/,
    );
  });

  it('rejects a weight file that lacks a tensor', async () => {
    const shapes = expectedWeightShapes(config);
    const tensors = [...shapes].filter(([name]) => name !== 'model.norm.weight').map(([name, shape]) => ({ name, dtype: 'F32' as const, shape, data: new Uint8Array(shape.reduce((a, b) => a * b, 4)) }));
    const source = new MemoryModelSource('partial', new Map([['model.safetensors', buildSafetensors(tensors)]]));
    await expect(forEachWeight(source, config, () => {})).rejects.toThrow(/partial: missing tensor "model.norm.weight" that config.json requires/);
  });

  it('rejects a model with no weight file', async () => {
    const source = new MemoryModelSource('empty', new Map());
    await expect(forEachWeight(source, config, () => {})).rejects.toThrow(/empty: neither model.safetensors nor model.safetensors.index.json was found/);
  });

  it('reads sharded weights through the index', async () => {
    const shapes = [...expectedWeightShapes(config)];
    const toTensor = ([name, shape]: [string, number[]]) => ({ name, dtype: 'F32' as const, shape, data: new Uint8Array(shape.reduce((a, b) => a * b, 4)) });
    const first = shapes.slice(0, 5);
    const second = shapes.slice(5);
    const weightMap = Object.fromEntries([...first.map(([name]) => [name, 'one.safetensors']), ...second.map(([name]) => [name, 'two.safetensors'])]);
    const source = new MemoryModelSource(
      'sharded',
      new Map([
        ['model.safetensors.index.json', encoder.encode(JSON.stringify({ metadata: {}, weight_map: weightMap }))],
        ['one.safetensors', buildSafetensors(first.map(toTensor))],
        ['two.safetensors', buildSafetensors(second.map(toTensor))],
      ]),
    );
    const seen: string[] = [];
    await forEachWeight(source, config, (name, _dtype, _shape, _bytes, file) => seen.push(`${file}:${name}`));
    expect(seen).toHaveLength(11);
    expect(seen[0]).toBe('sharded/one.safetensors:model.embed_tokens.weight');
    expect(seen[10]).toMatch(/^sharded\/two.safetensors:/);
  });
});
