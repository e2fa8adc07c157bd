import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium';
import { expect, test } from './fixtures';

// Without --enable-unsafe-webgpu, headless chromium on Linux returns no WebGPU adapter.
test.use({ launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS } });

test.describe('probe', () => {
  test('probe.unsupported: explains a missing WebGPU adapter', async ({ chat }) => {
    await chat.page.goto('/');

    const screen = chat.page.getByTestId('unsupported-screen');
    await expect(screen).toBeVisible();
    await expect(screen).toContainText('No WebGPU adapter was found');
    await expect(screen).toContainText('What you can do');
    await expect(chat.loadButton).toHaveCount(0);
  });
});
