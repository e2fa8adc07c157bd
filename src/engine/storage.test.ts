import { describe, expect, it } from 'vitest';
import { MemoryCacheStore } from './cacheStore';
import { MISSING_MARKER_HEADER } from './hub';
import { deleteCachedModel, describeQuotaError, listCachedModels, parseCachedUrl, requestPersistentStorage, storageFigures } from './storage';

const HUB = 'https://huggingface.co';

async function put(store: MemoryCacheStore, url: string, bytes: number): Promise<void> {
  await store.put(url, new Response(new Uint8Array(bytes), { headers: { 'content-length': String(bytes) } }));
}

describe('cached model list', () => {
  it('parses a hub URL', () => {
    expect(parseCachedUrl(`${HUB}/Qwen/Qwen3-0.6B/resolve/main/model.safetensors`)).toEqual({
      key: `${HUB}/Qwen/Qwen3-0.6B/resolve/main`,
      host: HUB,
      repoId: 'Qwen/Qwen3-0.6B',
      revision: 'main',
      file: 'model.safetensors',
    });
    expect(parseCachedUrl('http://127.0.0.1/models/tiny/config.json')).toBeUndefined();
  });

  it('groups files by model with their sizes', async () => {
    const store = new MemoryCacheStore();
    await put(store, `${HUB}/org/big/resolve/main/model.safetensors`, 5000);
    await put(store, `${HUB}/org/big/resolve/main/config.json`, 70);
    await put(store, `${HUB}/org/small/resolve/main/model.safetensors`, 300);
    await store.put(`${HUB}/org/small/resolve/main/generation_config.json`, new Response(null, { status: 404, headers: { [MISSING_MARKER_HEADER]: '1' } }));

    const models = await listCachedModels(store);

    expect(models.map((model) => [model.repoId, model.bytes, model.files.length])).toEqual([
      ['org/big', 5070, 2],
      ['org/small', 300, 2],
    ]);
    expect(models[0].files.map((file) => [file.file, file.bytes])).toEqual([
      ['config.json', 70],
      ['model.safetensors', 5000],
    ]);
  });

  it('deletes one model and keeps the others', async () => {
    const store = new MemoryCacheStore();
    await put(store, `${HUB}/org/a/resolve/main/model.safetensors`, 10);
    await put(store, `${HUB}/org/a/resolve/main/config.json`, 10);
    await put(store, `${HUB}/org/b/resolve/main/model.safetensors`, 10);

    expect(await deleteCachedModel(store, `${HUB}/org/a/resolve/main`)).toBe(2);
    expect(await store.keys()).toEqual([`${HUB}/org/b/resolve/main/model.safetensors`]);
  });
});

describe('storage figures', () => {
  it('reads estimate and persisted', async () => {
    const storage = { estimate: async () => ({ usage: 3 * 2 ** 20, quota: 10 * 2 ** 20 }), persisted: async () => false } as unknown as StorageManager;

    expect(await storageFigures(storage)).toEqual({ usage: 3 * 2 ** 20, quota: 10 * 2 ** 20, persisted: false });
  });

  it('reports the persist answer', async () => {
    const storage = { persist: async () => true } as unknown as StorageManager;

    expect(await requestPersistentStorage(storage)).toBe(true);
    await expect(requestPersistentStorage({} as StorageManager)).rejects.toThrow(/no navigator\.storage\.persist\(\)/);
  });

  it('puts the figures in the quota message', () => {
    expect(describeQuotaError('model.safetensors', 'org/a', { usage: 900 * 2 ** 20, quota: 1000 * 2 ** 20 })).toMatch(
      /^model\.safetensors of org\/a could not be kept.*used 900\.0 MiB of a 1000\.0 MiB quota, 100\.0 MiB free.*in memory only/,
    );
  });
});
