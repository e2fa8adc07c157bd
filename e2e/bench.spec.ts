import { readFile } from 'node:fs/promises';
import { readCapture } from '../src/attention/capture';
import { ANSWER_TIMEOUT_MS, expect, readDocument, test } from './fixtures';

/** The smallest bundled model; random weights, so it never finds the needle. */
const MODEL = 'tiny-qwen2';
/** A recorded bench/compare.ts result, opened through the file input as a user would. */
const RESULTS_FILE = 'bench/results/2026-12-04-google-swiftshader-swiftshader-device-subzero-sw.json';

test.describe('benchmark panel', () => {
  test('bench.needle-and-capture: runs a needle case and exports a capture', async ({ chat, page }) => {
    await chat.open();
    await chat.loadBundled(MODEL);
    await page.getByTestId('benchmark-panel').locator('summary').click();
    await expect(page.getByTestId('benchmark-test-model-note')).toContainText('random weights');

    // One 256-token case at depth 0.5, short answers: quick under SwiftShader.
    await page.getByTestId('needle-lengths').fill('256');
    await page.getByTestId('needle-depths').fill('0.5');
    await page.getByTestId('needle-max-new-tokens').fill('4');
    await page.getByTestId('needle-run').click();
    await expect(page.getByTestId('benchmark-progress')).toBeVisible();

    // Both methods' scores and prefill times sit in one row; random weights score 0.
    const row = page.getByTestId('needle-row');
    await expect(row).toHaveCount(1, { timeout: ANSWER_TIMEOUT_MS });
    await expect(page.getByTestId('needle-status')).toHaveAttribute('data-status', 'done', { timeout: ANSWER_TIMEOUT_MS });
    await expect(row.getByTestId('needle-dense-score')).toHaveText('0');
    await expect(row.getByTestId('needle-sparse-score')).toHaveText('0');
    expect(Number(await row.getByTestId('needle-dense-time').getAttribute('data-value'))).toBeGreaterThan(0);
    expect(Number(await row.getByTestId('needle-sparse-time').getAttribute('data-value'))).toBeGreaterThan(0);
    await expect(row.getByTestId('needle-speedup')).toHaveText(/^\d+\.\d\d×$/);
    expect(Number(await row.locator('td').first().textContent())).toBeGreaterThan(250);
    await expect(row).toHaveAttribute('data-expected', /^[1-9]\d{6}$/);

    // Export a capture of the document's first 48 tokens from layers 0 and 1.
    await chat.setDocument(readDocument().slice(0, 1500));
    await page.getByTestId('capture-max-tokens').fill('48');
    await page.getByTestId('capture-layers').fill('0, 1');
    const downloadPromise = page.waitForEvent('download', { timeout: ANSWER_TIMEOUT_MS });
    await page.getByTestId('capture-export').click();
    const download = await downloadPromise;
    expect(download.suggestedFilename()).toBe('tiny-qwen2-qkv-L0-1-48tok.qkv');
    const bytes = new Uint8Array(await readFile(await download.path()));
    expect(String.fromCharCode(...bytes.subarray(0, 8))).toBe('QKVCAPT\0');
    const { header } = readCapture(bytes);
    expect(header).toMatchObject({ model: 'tiny-qwen2', layers: [0, 1], numTokens: 48, numHeads: 4, numKvHeads: 2, headDim: 64, ropeApplied: true });
    await expect(page.getByTestId('capture-summary')).toContainText('48 tokens');

    // Sweep head 3 of layer 1 of that capture in the worker and draw its curves.
    await page.getByTestId('curves-capture-file').setInputFiles(await download.path());
    await page.getByTestId('curves-layer').selectOption('1');
    await page.getByTestId('curves-head').fill('3');
    await page.getByTestId('curves-compute').click();
    await expect(page.getByTestId('curve-chart')).toBeVisible({ timeout: ANSWER_TIMEOUT_MS });
    await expect(page.getByTestId('curves-title')).toContainText('layer 1 head 3');
    await expect(page.getByTestId('curve-anchor')).toHaveAttribute('data-points', /^[1-9]\d*$/);
    await expect(page.getByTestId('curve-dense')).toHaveAttribute('data-points', '1');
    await expect(chat.errorBanner).toHaveCount(0);
  });

  test('bench.results-file: draws curves from a results file', async ({ chat, page }) => {
    await chat.open();
    await page.getByTestId('benchmark-panel').locator('summary').click();
    await page.getByTestId('curves-results-file').setInputFiles(RESULTS_FILE);

    // The first input is drawn, with both axis labels and one legend entry per method.
    await expect(page.getByTestId('curve-chart')).toBeVisible();
    await expect(page.getByTestId('curve-x-label')).toHaveText(/density/);
    await expect(page.getByTestId('curve-y-label')).toHaveText(/recall/);
    await expect(page.getByTestId('curve-legend').locator('text')).toHaveCount(7);
    await expect(page.getByTestId('curve-anchor')).toHaveAttribute('data-points', /^[1-9]\d*$/);

    // Another input of the file can be chosen.
    const inputs = page.getByTestId('curves-input').locator('option');
    expect(await inputs.count()).toBeGreaterThan(1);
    await page.getByTestId('curves-input').selectOption({ index: 1 });
    await expect(page.getByTestId('curve-chart')).toBeVisible();

    // A file that is not a results record is rejected with its name.
    await page.getByTestId('curves-results-file').setInputFiles({ name: 'other.json', mimeType: 'application/json', buffer: Buffer.from('{"a": 1}') });
    await expect(page.getByTestId('benchmark-input-error')).toContainText('other.json could not be read');
  });
});
