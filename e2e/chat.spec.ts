import { resolve } from 'node:path';
import { ANSWER_TIMEOUT_MS, LOAD_TIMEOUT_MS, expect, readDocument, test } from './fixtures';
import { startHubServer } from './hubServer';

/** The smallest bundled model; its random weights make answers meaningless but exercise every kernel. */
const MODEL = 'tiny-qwen2';
const SCREENSHOT = resolve('e2e/artifacts/chat-answer.png');

test.describe('chat', () => {
  test('chat.stream: answers a question about a long document', async ({ chat }, testInfo) => {
    // Load the model and keep answers short, since software WebGPU decodes slowly.
    await chat.open();
    await chat.setMaxNewTokens(12);
    await chat.loadBundled(MODEL);

    // Paste the document and a question; the counter shows "n / context tokens".
    const documentTokens = await chat.setDocument(readDocument());
    expect(documentTokens).toBeGreaterThan(2000);
    await chat.questionInput.fill('What does this license say about patents?');
    const counted = await chat.currentTokenCount();
    expect(counted).toBeGreaterThan(documentTokens);
    await expect(chat.tokenCount).toHaveText(/^[\d,]+ \/ 32,768 tokens$/);

    // Send with Enter: prefill, then tokens stream into the answer.
    await chat.questionInput.press('Enter');
    await expect(chat.userMessages).toHaveCount(1);
    await expect(chat.streamingText).not.toHaveText('Thinking…', { timeout: ANSWER_TIMEOUT_MS });
    await chat.waitForAnswer();

    // The statistics describe this answer: the whole prompt was prefilled and at least 8 tokens came out.
    const stats = await chat.stats();
    expect(stats.promptTokens).toBe(counted);
    expect(stats.reusedTokens).toBe(0);
    expect(stats.prefillTokens).toBe(stats.promptTokens);
    expect(stats.generatedTokens).toBeGreaterThanOrEqual(8);
    await expect(chat.assistantMessages).toHaveCount(1);
    await expect(chat.assistantMessages.first().locator('.message-text')).not.toBeEmpty();
    await expect(chat.page.getByTestId('stat-ttft')).toHaveText(/\d/);
    await expect(chat.page.getByTestId('stat-decode-rate')).toHaveText(/tok\/s/);
    await expect(chat.errorBanner).toHaveCount(0);

    // Keep a picture of the answered chat.
    await chat.page.screenshot({ path: SCREENSHOT, fullPage: true });
    await testInfo.attach('chat-answer', { path: SCREENSHOT, contentType: 'image/png' });
  });

  test('chat.stop: halts a long answer', async ({ chat }) => {
    await chat.open();
    await chat.setMaxNewTokens(4000);
    await chat.loadBundled(MODEL);
    await chat.setDocument('A short note about the weather: it is sunny.');

    // Start an answer that would run for minutes, and stop it once text appears.
    await chat.ask('Describe the weather.');
    await expect(chat.streamingText).not.toHaveText('Thinking…', { timeout: ANSWER_TIMEOUT_MS });
    await chat.stopButton.click();

    // The partial answer stays, marked as stopped, and the composer is usable again.
    await chat.waitForAnswer();
    const stats = await chat.stats();
    expect(stats.stoppedBy).toBe('abort');
    expect(stats.generatedTokens).toBeLessThan(4000);
    await expect(chat.assistantMessages).toHaveCount(1);
    await expect(chat.stopButton).toHaveCount(0);
  });

  test('chat.reset: clears the conversation', async ({ chat }) => {
    await chat.open();
    await chat.setMaxNewTokens(4);
    await chat.loadBundled(MODEL);
    await chat.setDocument('Short document.');
    await chat.ask('First question?');
    await chat.waitForAnswer();
    await expect(chat.assistantMessages).toHaveCount(1);

    // Reset removes every turn and the statistics but keeps the document.
    await chat.resetButton.click();
    await expect(chat.userMessages).toHaveCount(0);
    await expect(chat.assistantMessages).toHaveCount(0);
    await expect(chat.statsPanel).toHaveCount(0);
    await expect(chat.documentInput).toHaveValue('Short document.');
  });

  test('chat.reuse: a follow-up question prefills only the new tokens', async ({ chat }) => {
    await chat.open();
    await chat.setMaxNewTokens(8);
    await chat.loadBundled(MODEL);
    await chat.setDocument(readDocument());

    await chat.ask('Who is a Contributor?');
    await chat.waitForAnswer();
    const first = await chat.stats();

    // The second prompt starts with the first prompt, so its keys and values come from the KV cache.
    await chat.ask('And what is a Derivative Work?');
    await expect(chat.assistantMessages).toHaveCount(2);
    await chat.waitForAnswer();
    const second = await chat.stats();

    expect(second.promptTokens).toBeGreaterThan(first.promptTokens);
    // The Qwen3 chat template drops the empty reasoning block (<think>, \n\n, </think>, \n\n: 4 tokens)
    // from earlier assistant turns, so the shared prefix ends just before it.
    expect(second.reusedTokens).toBeGreaterThanOrEqual(first.promptTokens - 4);
    expect(second.prefillTokens).toBe(second.promptTokens - second.reusedTokens);
    expect(second.prefillTokens).toBeLessThan(100);
  });
});

test.describe('document', () => {
  test('document.too-long: refuses a prompt longer than the context', async ({ chat }) => {
    // A 1,024-token context makes the ~2,600-token document too long without a huge paste.
    await chat.open();
    await chat.openSettings();
    await chat.page.getByTestId('context-length-setting').fill('1024');
    await chat.loadBundled(MODEL);
    await expect(chat.page.getByTestId('context-length')).toHaveText('1,024');

    const document = readDocument();
    await chat.setDocument(document);
    await chat.questionInput.fill('Summarize it.');

    // The counter turns red, the message gives both counts, and Send is disabled.
    await expect(chat.tooLongMessage).toBeVisible();
    await expect(chat.tooLongMessage).toContainText(/are [\d,]+ tokens, but the model's context holds 1,024 tokens/);
    await expect(chat.sendButton).toBeDisabled();

    // Enter does not start a generation, and nothing typed is lost.
    await chat.questionInput.press('Enter');
    await expect(chat.userMessages).toHaveCount(0);
    await expect(chat.prefillProgress).toHaveCount(0);
    await expect(chat.questionInput).toHaveValue('Summarize it.');
    await expect(chat.documentInput).toHaveValue(document);
  });
});

test.describe('tokenizer', () => {
  test('tokenizer.count: chat markers are single special tokens', async ({ chat }) => {
    await chat.open();
    await chat.openSettings();
    await chat.page.getByTestId('system-prompt').fill('');
    await chat.loadBundled(MODEL);

    // "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n" is 13 Qwen tokens:
    // <|im_start|> user \n Hi <|im_end|> \n <|im_start|> assistant \n <think> \n\n </think> \n\n.
    await chat.questionInput.fill('Hi');
    expect(await chat.currentTokenCount()).toBe(13);
  });
});

test.describe('hub', () => {
  test('hub.cache: downloads with progress, then loads from the cache', async ({ chat }) => {
    const repoId = 'test-org/tiny-qwen2';
    // About 8 MB/s stretches the 40 MB weight file over several seconds of visible progress.
    const server = await startHubServer(repoId, resolve('public/models', MODEL), { weightBytesPerSecond: 8 << 20 });
    try {
      await chat.open();
      await chat.startHubLoad(server.baseUrl, repoId);

      // The weight file gets its own progress bar while it downloads.
      const weights = chat.fileProgress.and(chat.page.locator('[data-file="model.safetensors"]'));
      await expect(weights.first()).toBeVisible();
      await expect(weights.first()).toHaveAttribute('data-from-cache', 'false');
      await expect(chat.modelLoaded).toBeVisible({ timeout: LOAD_TIMEOUT_MS });
      // The memory check's Range request for the header comes first; this server ignores Range, so the
      // check cancels that answer and estimates from config.json. Then the one download.
      expect(server.requests.filter((request) => request.startsWith('GET ') && request.endsWith('/model.safetensors'))).toEqual([
        `GET /${repoId}/resolve/main/model.safetensors`,
        `GET /${repoId}/resolve/main/model.safetensors`,
      ]);

      // After a reload the same model loads without any request for its weights.
      server.requests.length = 0;
      await chat.page.reload();
      await expect(chat.page.getByTestId('adapter-name')).toBeVisible();
      await chat.startHubLoad(server.baseUrl, repoId);
      await expect(chat.modelLoaded).toBeVisible({ timeout: LOAD_TIMEOUT_MS });
      expect(server.requests.filter((request) => request.includes('.safetensors'))).toEqual([]);
      expect(server.requests).toEqual([]);
      await expect(chat.fileProgress.and(chat.page.locator('[data-file="model.safetensors"]'))).toHaveAttribute('data-from-cache', 'true');
    } finally {
      await server.close();
    }
  });

  test('hub.gated: HTTP 401 names the fix', async ({ chat }) => {
    const repoId = 'test-org/gated-model';
    const server = await startHubServer(repoId, resolve('public/models', MODEL), { gated: true });
    try {
      await chat.open();
      await chat.startHubLoad(server.baseUrl, repoId);

      // The banner names the file, the status and both ways forward; the picker is usable again.
      await expect(chat.errorBanner).toContainText('HTTP 401');
      // config.json is the first file read, by the memory check before any download.
      await expect(chat.errorBanner).toContainText('config.json');
      await expect(chat.errorBanner).toContainText(/access token.*another model/);
      await expect(chat.loadButton).toBeEnabled();
      await expect(chat.modelLoaded).toHaveCount(0);
    } finally {
      await server.close();
    }
  });
});
