import { resolve } from 'node:path';
import type { Locator } from '@playwright/test';
import { ANSWER_TIMEOUT_MS, expect, readDocument, test } from './fixtures';

/** The smallest bundled model: its random weights give meaningless text but run every kernel. */
const MODEL = 'tiny-qwen2';
const QUESTION = 'What does this license say about patents?';
const GRID_SCREENSHOT = resolve('e2e/artifacts/anchor-grid.png');
const STRIPE_MAP_SCREENSHOT = resolve('e2e/artifacts/anchor-stripe-map.png');
const COMPARISON_SCREENSHOT = resolve('e2e/artifacts/anchor-comparison.png');

/** Counts the canvas pixels that differ from the white background. */
async function paintedPixels(canvas: Locator): Promise<{ painted: number; total: number }> {
  return canvas.evaluate((element: HTMLCanvasElement) => {
    const context = element.getContext('2d');
    if (!context) return { painted: 0, total: 0 };
    const { data } = context.getImageData(0, 0, element.width, element.height);
    let painted = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i] !== 255 || data[i + 1] !== 255 || data[i + 2] !== 255) painted++;
    }
    return { painted, total: data.length / 4 };
  });
}

test.describe('anchor statistics', () => {
  test('anchor.grid: shows per-head statistics, a stripe map and the dense comparison', async ({ chat }, testInfo) => {
    const page = chat.page;
    await chat.open();
    await chat.setMaxNewTokens(4);
    await chat.loadBundled(MODEL);

    // Sparse prefill with the short-context preset (G = 512), so the document spans several groups.
    await page.getByTestId('attention-anchor').check();
    await page.getByTestId('anchor-preset').selectOption('short-context');
    await page.getByTestId('stats-detailed').check();
    const documentTokens = await chat.setDocument(readDocument());
    expect(documentTokens).toBeGreaterThan(2000);
    await chat.ask(QUESTION);
    await chat.waitForAnswer();

    // The grid has one cell per layer and head (2 × 4 for tiny-qwen2), with totals beside it.
    const panel = page.getByTestId('prefill-stats');
    const grid = page.getByTestId('head-grid');
    await expect(grid).toBeVisible({ timeout: ANSWER_TIMEOUT_MS });
    await expect(grid.locator('[role=gridcell]')).toHaveCount(8);
    await expect(page.getByTestId('sparse-prefill-ms')).toHaveText(/\d/);
    await expect(page.getByTestId('color-legend')).toContainText('Density');

    // Hovering a cell shows its numbers; colouring by recall and speedup works in detailed mode.
    await page.getByTestId('head-cell-1-2').hover();
    await expect(page.getByTestId('head-details')).toContainText('Layer 1, head 2');
    await expect(page.getByTestId('head-details')).toContainText(/density [01]\.\d{4} \(stripes /);
    await expect(page.getByTestId('head-details')).toContainText(/recall mean/);
    await page.getByTestId('head-metric').selectOption('speedup');
    await expect(page.getByTestId('color-legend')).toContainText('Speedup');
    await page.getByTestId('head-metric').selectOption('density');
    await panel.screenshot({ path: GRID_SCREENSHOT });
    await testInfo.attach('anchor-grid', { path: GRID_SCREENSHOT, contentType: 'image/png' });

    // Keyboard: move to layer 1, head 1 and open its stripe map with Enter.
    await grid.focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    const stripeMap = page.getByTestId('stripe-map');
    await expect(stripeMap).toContainText('layer 1, head 1');
    const canvas = page.getByTestId('stripe-map-canvas');
    const pixels = await paintedPixels(canvas);
    expect(pixels.total).toBeGreaterThan(0);
    // The init and local regions alone colour a large part of every group's band.
    expect(pixels.painted / pixels.total).toBeGreaterThan(0.05);
    await stripeMap.screenshot({ path: STRIPE_MAP_SCREENSHOT });
    await testInfo.attach('anchor-stripe-map', { path: STRIPE_MAP_SCREENSHOT, contentType: 'image/png' });

    // Export JSON downloads every statistic with the stripe lists.
    const downloadPromise = page.waitForEvent('download');
    await page.getByTestId('export-json').click();
    const download = await downloadPromise;
    expect(download.suggestedFilename()).toMatch(/^anchor-prefill-stats-.+\.json$/);

    // Switch to dense, clear the chat and ask the same question: the same prompt runs densely.
    await page.getByTestId('attention-dense').check();
    await chat.resetButton.click();
    await expect(chat.userMessages).toHaveCount(0);
    await chat.ask(QUESTION);
    await chat.waitForAnswer();
    const comparison = page.getByTestId('prefill-comparison');
    await expect(comparison.getByTestId('prefill-run-dense')).toHaveCount(1, { timeout: ANSWER_TIMEOUT_MS });
    await expect(comparison.getByTestId('prefill-run-anchor')).toHaveCount(1);
    await expect(comparison.getByTestId('prefill-run-anchor')).toContainText(/\d+\.\d\d× \(dense .+, later run\)/);
    await expect(chat.errorBanner).toHaveCount(0);
    await comparison.screenshot({ path: COMPARISON_SCREENSHOT });
    await testInfo.attach('anchor-comparison', { path: COMPARISON_SCREENSHOT, contentType: 'image/png' });
  });
});
