import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ANSWER_TIMEOUT_MS, LOAD_TIMEOUT_MS, expect, test } from './fixtures';

const MODEL_FOLDER = resolve('public/models/tiny-qwen2');

test.describe('local files', () => {
  const picks = [
    {
      id: 'local.files',
      input: 'model-files-input',
      what: 'files picked one by one',
      files: () => readdirSync(MODEL_FOLDER).map((name) => join(MODEL_FOLDER, name)),
      sourceName: 'local files',
    },
    // Playwright uploads a whole directory into an input with the webkitdirectory attribute;
    // the model is then named after the folder.
    { id: 'local.folder', input: 'model-folder-input', what: 'an opened folder', files: () => MODEL_FOLDER, sourceName: 'tiny-qwen2' },
  ];

  for (const pick of picks) {
    test(`${pick.id}: a model from ${pick.what} chats with no model requests`, async ({ chat, context }) => {
      // Every request for a model file, from the page or its worker, is recorded and aborted.
      const blocked: string[] = [];
      await context.route(/\/models\/[^/]+\/|\/resolve\//, async (route) => {
        blocked.push(route.request().url());
        await route.abort();
      });

      await chat.open();
      await chat.setMaxNewTokens(4);
      await chat.modelSelect.selectOption('files');
      await chat.page.getByTestId(pick.input).setInputFiles(pick.files());
      await chat.loadButton.click();
      await expect(chat.modelLoaded).toBeVisible({ timeout: LOAD_TIMEOUT_MS });
      await expect(chat.modelLoaded).toContainText(pick.sourceName);

      // The chat produces tokens from the local weights.
      await chat.setDocument('A short note: the meeting is on Tuesday.');
      await chat.ask('When is the meeting?');
      await chat.waitForAnswer();
      const stats = await chat.stats();
      expect(stats.generatedTokens).toBeGreaterThanOrEqual(1);
      await expect(chat.assistantMessages.first().locator('.message-text')).not.toBeEmpty({ timeout: ANSWER_TIMEOUT_MS });
      expect(blocked).toEqual([]);
    });
  }

  test('local.missing: an incomplete pick lists the missing files', async ({ chat }) => {
    await chat.open();
    await chat.modelSelect.selectOption('files');
    await chat.page.getByTestId('model-files-input').setInputFiles([join(MODEL_FOLDER, 'config.json'), join(MODEL_FOLDER, 'tokenizer_config.json')]);
    await chat.loadButton.click();

    await expect(chat.errorBanner).toContainText(
      'The opened files are not a complete model: missing tokenizer.json, model.safetensors (or model.safetensors.index.json with its shards). Opened: config.json, tokenizer_config.json.',
    );
    await expect(chat.modelLoaded).toHaveCount(0);
  });
});
