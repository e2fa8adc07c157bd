/** Page objects for the chat app, added to Playwright's `test` as fixtures. */
import { readFileSync } from 'node:fs';
import { test as base, expect, type Locator, type Page } from '@playwright/test';

/**
 * A real document of about 2,600 tokens that Debian 12 installs by default (base-files).
 * Software WebGPU prefills a few thousand tokens of the tiny model in seconds, not minutes.
 */
export const DOCUMENT_PATH = '/usr/share/common-licenses/Apache-2.0';

export function readDocument(path = DOCUMENT_PATH): string {
  return readFileSync(path, 'utf8');
}

/**
 * Loading compiles every pipeline during a warm-up step, which took about 3 minutes for
 * tiny-qwen2 under SwiftShader on a 2-core machine.
 */
export const LOAD_TIMEOUT_MS = 420_000;

/** Prefill of a few thousand tokens, with its first-use pipeline compiles, under SwiftShader. */
export const ANSWER_TIMEOUT_MS = 600_000;

export interface AnswerStats {
  promptTokens: number;
  reusedTokens: number;
  prefillTokens: number;
  generatedTokens: number;
  stoppedBy: string;
}

export class ChatPage {
  readonly modelSelect: Locator;
  readonly loadButton: Locator;
  readonly modelLoaded: Locator;
  readonly documentInput: Locator;
  readonly tokenCount: Locator;
  readonly tooLongMessage: Locator;
  readonly questionInput: Locator;
  readonly sendButton: Locator;
  readonly stopButton: Locator;
  readonly resetButton: Locator;
  readonly streamingText: Locator;
  readonly prefillProgress: Locator;
  readonly statsPanel: Locator;
  readonly assistantMessages: Locator;
  readonly userMessages: Locator;
  readonly errorBanner: Locator;
  readonly fileProgress: Locator;

  constructor(readonly page: Page) {
    this.modelSelect = page.getByTestId('model-select');
    this.loadButton = page.getByTestId('load-button');
    this.modelLoaded = page.getByTestId('model-loaded');
    this.documentInput = page.getByTestId('document-input');
    this.tokenCount = page.getByTestId('token-count');
    this.tooLongMessage = page.getByTestId('too-long-message');
    this.questionInput = page.getByTestId('question-input');
    this.sendButton = page.getByTestId('send-button');
    this.stopButton = page.getByTestId('stop-button');
    this.resetButton = page.getByTestId('reset-button');
    this.streamingText = page.getByTestId('streaming-text');
    this.prefillProgress = page.getByTestId('prefill-progress');
    this.statsPanel = page.getByTestId('stats-panel');
    this.assistantMessages = page.getByTestId('message-assistant');
    this.userMessages = page.getByTestId('message-user');
    this.errorBanner = page.getByTestId('error-banner');
    this.fileProgress = page.getByTestId('file-progress');
  }

  async open(): Promise<void> {
    await this.page.goto('/');
    await expect(this.page.getByTestId('adapter-name')).toBeVisible();
  }

  async openSettings(): Promise<void> {
    const settings = this.page.getByTestId('generation-settings');
    if ((await settings.getAttribute('open')) === null) await settings.locator('summary').click();
  }

  async setMaxNewTokens(count: number): Promise<void> {
    await this.openSettings();
    await this.page.getByTestId('max-new-tokens').fill(String(count));
  }

  /** Chooses a bundled test model, loads it and waits until it is ready. */
  async loadBundled(id: string): Promise<void> {
    await this.modelSelect.selectOption(`bundled:${id}`);
    await this.loadButton.click();
    await expect(this.modelLoaded).toBeVisible({ timeout: LOAD_TIMEOUT_MS });
  }

  /** Chooses "Other repository…" with a hub base URL and presses Load. */
  async startHubLoad(baseUrl: string, repoId: string): Promise<void> {
    await this.modelSelect.selectOption('custom');
    await this.page.getByTestId('repo-id-input').fill(repoId);
    await this.page.locator('.hub-options summary').click();
    await this.page.getByTestId('hub-base-url').fill(baseUrl);
    await this.loadButton.click();
  }

  /** Waits until the token count covers the latest edit and returns it. */
  async currentTokenCount(): Promise<number> {
    await expect(this.tokenCount).toHaveAttribute('data-stale', 'false');
    return Number(await this.tokenCount.getAttribute('data-tokens'));
  }

  /** Pastes the document and returns the prompt's token count with it. */
  async setDocument(text: string): Promise<number> {
    await this.documentInput.fill(text);
    return this.currentTokenCount();
  }

  async ask(question: string): Promise<void> {
    await this.questionInput.fill(question);
    await expect(this.sendButton).toBeEnabled();
    await this.questionInput.press('Enter');
  }

  async waitForAnswer(): Promise<void> {
    await expect(this.sendButton).toBeVisible({ timeout: ANSWER_TIMEOUT_MS });
    await expect(this.statsPanel).toBeVisible();
  }

  async stats(): Promise<AnswerStats> {
    const read = async (testId: string) => Number(await this.page.getByTestId(testId).getAttribute('data-value'));
    return {
      promptTokens: await read('stat-prompt-tokens'),
      reusedTokens: await read('stat-reused-tokens'),
      prefillTokens: await read('stat-prefill-tokens'),
      generatedTokens: await read('stat-decode-rate'),
      stoppedBy: (await this.page.getByTestId('stat-stopped-by').textContent()) ?? '',
    };
  }
}

export const test = base.extend<{ chat: ChatPage }>({
  // The second argument is Playwright's fixture callback; it is not named `use`, so the React hooks lint rule leaves it alone.
  chat: async ({ page }, provide) => {
    await provide(new ChatPage(page));
  },
});

export { expect };
