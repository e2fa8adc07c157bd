import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { QWEN25_05B_INSTRUCT } from '../src/engine/realConfigs';
import { LOAD_TIMEOUT_MS, expect, test, type ChatPage } from './fixtures';
import { startFaultyHubServer } from './faultyHubServer';

const MODEL_FOLDER = resolve('public/models/tiny-qwen2');
const CACHE_NAME = 'anchor-chat-models-v1';

/** Sum of the sizes of every file of the tiny model, which is what the cache contains after a load. */
function folderBytes(folder: string): number {
  return readdirSync(folder).reduce((sum, name) => sum + statSync(join(folder, name)).size, 0);
}

/** URLs in the browser's model cache. */
async function cachedUrls(chat: ChatPage): Promise<string[]> {
  return chat.page.evaluate(async (name) => (await (await caches.open(name)).keys()).map((request) => request.url), CACHE_NAME);
}

/**
 * Writes a folder with Qwen2.5-0.5B-Instruct's config.json and a model.safetensors that is only a header
 * describing its 494M bf16 parameters: enough for the memory check, which reads headers only.
 */
function headerOnlyQwenFolder(): string {
  const config = QWEN25_05B_INSTRUCT;
  const hidden = config.hidden_size;
  const kvWidth = (hidden / config.num_attention_heads) * config.num_key_value_heads;

  const shapes: [string, number[]][] = [['model.embed_tokens.weight', [config.vocab_size, hidden]], ['model.norm.weight', [hidden]]];
  for (let layer = 0; layer < config.num_hidden_layers; layer++) {
    const prefix = `model.layers.${layer}.`;
    shapes.push(
      [`${prefix}input_layernorm.weight`, [hidden]],
      [`${prefix}post_attention_layernorm.weight`, [hidden]],
      [`${prefix}self_attn.q_proj.weight`, [hidden, hidden]],
      [`${prefix}self_attn.q_proj.bias`, [hidden]],
      [`${prefix}self_attn.k_proj.weight`, [kvWidth, hidden]],
      [`${prefix}self_attn.k_proj.bias`, [kvWidth]],
      [`${prefix}self_attn.v_proj.weight`, [kvWidth, hidden]],
      [`${prefix}self_attn.v_proj.bias`, [kvWidth]],
      [`${prefix}self_attn.o_proj.weight`, [hidden, hidden]],
      [`${prefix}mlp.gate_proj.weight`, [config.intermediate_size, hidden]],
      [`${prefix}mlp.up_proj.weight`, [config.intermediate_size, hidden]],
      [`${prefix}mlp.down_proj.weight`, [hidden, config.intermediate_size]],
    );
  }

  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, shape] of shapes) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 2;
    header[name] = { dtype: 'BF16', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }

  const json = Buffer.from(JSON.stringify(header));
  const file = Buffer.alloc(8 + json.byteLength);
  file.writeBigUInt64LE(BigInt(json.byteLength), 0);
  json.copy(file, 8);
  const folder = mkdtempSync(join(tmpdir(), 'qwen-header-only-'));
  writeFileSync(join(folder, 'config.json'), JSON.stringify(config));
  writeFileSync(join(folder, 'model.safetensors'), file);
  return folder;
}

test.describe('robust downloads', () => {
  test('robust.resume: resumes a dropped download, caches it, and deletes it from Storage', async ({ chat }) => {
    const repoId = 'test-org/resume-qwen2';
    const server = await startFaultyHubServer(repoId, MODEL_FOLDER, 'drop-once');
    try {
      await chat.open();
      await chat.startHubLoad(server.baseUrl, repoId);
      await expect(chat.modelLoaded).toBeVisible({ timeout: LOAD_TIMEOUT_MS });

      // The full GET was cut halfway; the next request continued it with Range and got 206.
      const weights = server.weightRequests();
      const full = weights.filter((request) => request.range === undefined);
      expect(full).toHaveLength(1);
      const resumed = weights.filter((request) => /^bytes=[1-9]\d*-$/.test(request.range ?? ''));
      expect(resumed).toHaveLength(1);
      expect(resumed[0].status).toBe(206);
      // The memory check ran first and found that the model fits.
      await expect(chat.page.getByTestId('fit-report')).toHaveAttribute('data-fits', 'true');

      // The Storage panel lists the model with the size of all its files.
      const cached = chat.page.getByTestId('cached-model').and(chat.page.locator(`[data-repo="${repoId}"]`));
      await expect(cached).toHaveAttribute('data-bytes', String(folderBytes(MODEL_FOLDER)));

      // After a reload the model loads from the cache: no request for its weights at all.
      server.requests.length = 0;
      await chat.page.reload();
      await expect(chat.page.getByTestId('adapter-name')).toBeVisible();
      await chat.startHubLoad(server.baseUrl, repoId);
      await expect(chat.modelLoaded).toBeVisible({ timeout: LOAD_TIMEOUT_MS });
      expect(server.weightRequests()).toEqual([]);
      await expect(chat.fileProgress.and(chat.page.locator('[data-file="model.safetensors"]'))).toHaveAttribute('data-from-cache', 'true');

      // Delete removes every cached file of the model.
      await cached.getByTestId('delete-cached-model').click();
      await expect(cached).toHaveCount(0);
      expect((await cachedUrls(chat)).filter((url) => url.includes(repoId))).toEqual([]);
    } finally {
      await server.close();
    }
  });

  test('robust.truncated: a truncated weight file fails clearly and is not cached', async ({ chat }) => {
    const repoId = 'test-org/truncated-qwen2';
    const server = await startFaultyHubServer(repoId, MODEL_FOLDER, 'truncate');
    try {
      await chat.open();
      await chat.startHubLoad(server.baseUrl, repoId);

      // Each retry shows in the file's progress line while it waits.
      await expect(chat.page.getByTestId('file-retry').first()).toContainText(/retry \d of 4 in \d+\.\d s/, { timeout: 60_000 });
      // Four retries with backoff (1 + 2 + 4 + 8 s), then the banner names the file and the byte count.
      await expect(chat.errorBanner).toContainText(/model\.safetensors of test-org\/truncated-qwen2 failed after \d+ of \d+ bytes after 5 attempts/, { timeout: 120_000 });
      await expect(chat.modelLoaded).toHaveCount(0);
      await expect(chat.loadButton).toBeEnabled();
      // Five whole-file attempts; the memory check's header reads use closed ranges (bytes=a-b).
      expect(server.weightRequests().filter((request) => !/^bytes=\d+-\d+$/.test(request.range ?? ''))).toHaveLength(5);

      // The small files were cached, the broken weight file was not.
      const urls = (await cachedUrls(chat)).filter((url) => url.includes(repoId));
      expect(urls.some((url) => url.endsWith('/config.json'))).toBe(true);
      expect(urls.filter((url) => url.endsWith('.safetensors'))).toEqual([]);
    } finally {
      await server.close();
    }
  });

  test('robust.fit: a model over the memory budget is refused before any weight download', async ({ chat }) => {
    const repoId = 'test-org/qwen25-header-only';
    const server = await startFaultyHubServer(repoId, headerOnlyQwenFolder(), 'none');
    try {
      await chat.open();
      await chat.modelSelect.selectOption('custom');
      await chat.page.getByTestId('repo-id-input').fill(repoId);
      await chat.page.locator('.hub-options summary').click();
      await chat.page.getByTestId('hub-base-url').fill(server.baseUrl);
      await chat.page.getByTestId('memory-budget').fill('0.5');

      // "Check memory" shows needed against available, part by part.
      await chat.page.getByTestId('check-fit-button').click();
      const report = chat.page.getByTestId('fit-report');
      await expect(report).toHaveAttribute('data-fits', 'false');
      await expect(chat.page.getByTestId('fit-weights')).toHaveAttribute('data-needed', '988065536');
      await expect(chat.page.getByTestId('fit-verdict')).toContainText(/does not fit at 32,768 tokens.*weights 942\.3 MiB.*memory budget is 512\.0 MiB/);
      await expect(chat.page.getByTestId('fit-total')).toContainText('512.0 MiB');

      // Load refuses with the same numbers, and only the two header Range requests reached the weights.
      await chat.loadButton.click();
      await expect(chat.errorBanner).toContainText(/does not fit .*No context length fits/);
      const weights = server.weightRequests();
      expect(weights.length).toBeGreaterThan(0);
      expect(weights.every((request) => request.range !== undefined && request.status === 206)).toBe(true);
    } finally {
      await server.close();
    }
  });
});
