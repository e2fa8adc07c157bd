import { describe, expect, it } from 'vitest';
import { LocalFilesModelSource } from './localSource';

/** A File as a folder picker gives it, with webkitRelativePath "folder/path" (Node's File has none). */
function folderFile(folder: string, path: string, content: string | Uint8Array<ArrayBuffer>): File {
  const file = new File([content], path.split('/').at(-1)!);
  Object.defineProperty(file, 'webkitRelativePath', { value: `${folder}/${path}` });
  return file;
}

function plainFile(name: string, content: string | Uint8Array<ArrayBuffer> = '{}'): File {
  return new File([content], name);
}

const INDEX = JSON.stringify({
  metadata: { total_size: 10 },
  weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' },
});

describe('LocalFilesModelSource', () => {
  it('maps a folder pick to paths inside the folder', async () => {
    const source = new LocalFilesModelSource([folderFile('Qwen2.5', 'config.json', '{"a":1}'), folderFile('Qwen2.5', 'sub/extra.txt', 'x')]);

    expect(source.name).toBe('Qwen2.5');
    expect(source.paths).toEqual(['config.json', 'sub/extra.txt']);
    expect(new TextDecoder().decode(await source.fetchBytes('config.json'))).toBe('{"a":1}');
  });

  it('uses file names for a multi-file pick', async () => {
    const source = new LocalFilesModelSource([plainFile('config.json'), plainFile('tokenizer.json')]);

    expect(source.name).toBe('local files');
    expect(await source.has('tokenizer.json')).toBe(true);
    expect(await source.has('model.safetensors')).toBe(false);
  });

  it('reads a byte range without the rest', async () => {
    const source = new LocalFilesModelSource([plainFile('model.safetensors', new Uint8Array([1, 2, 3, 4, 5, 6, 7]))]);

    expect(new Uint8Array((await source.fetchRange('model.safetensors', 2, 5))!)).toEqual(new Uint8Array([3, 4, 5]));
  });

  it('accepts a complete single-file model', async () => {
    const source = new LocalFilesModelSource(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors'].map((name) => plainFile(name)));

    expect(await source.missingFiles()).toEqual([]);
    await expect(source.checkComplete()).resolves.toBeUndefined();
  });

  it('lists every missing file', async () => {
    const source = new LocalFilesModelSource([plainFile('tokenizer_config.json')]);

    expect(await source.missingFiles()).toEqual(['config.json', 'tokenizer.json', 'model.safetensors (or model.safetensors.index.json with its shards)']);
    await expect(source.checkComplete()).rejects.toThrow(
      'The opened files are not a complete model: missing config.json, tokenizer.json, model.safetensors (or model.safetensors.index.json with its shards). Opened: tokenizer_config.json.',
    );
  });

  it('lists the shards an index names but the pick lacks', async () => {
    const source = new LocalFilesModelSource([
      plainFile('config.json'),
      plainFile('tokenizer.json'),
      plainFile('model.safetensors.index.json', INDEX),
      plainFile('model-00001-of-00002.safetensors', new Uint8Array(8)),
    ]);

    expect(await source.missingFiles()).toEqual(['model-00002-of-00002.safetensors']);
  });

  it('names a missing file on read', async () => {
    const source = new LocalFilesModelSource([plainFile('config.json')]);

    await expect(source.fetchBytes('tokenizer.json')).rejects.toThrow(/tokenizer\.json is missing from the opened files/);
  });
});
