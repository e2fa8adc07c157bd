import { defineConfig } from '@playwright/test';

const PORT = 4173;

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  // Software WebGPU (SwiftShader) runs a tiny model at a few tokens per second, and one device at a time.
  timeout: 300_000,
  expect: { timeout: 120_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: process.env.CI ? 1 : 0,
  reporter: process.env.CI ? [['list'], ['html', { open: 'never' }]] : 'list',
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    browserName: 'chromium',
    headless: true,
    trace: 'on-first-retry',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      // Debian 12's chromium 156 gives navigator.gpu a SwiftShader adapter in headless mode with
      // --enable-unsafe-webgpu alone, on a secure origin such as http://127.0.0.1; no Vulkan or
      // ANGLE flag (--enable-features=Vulkan, --use-vulkan=swiftshader, --use-angle=swiftshader)
      // changed the adapter or its features when tried. A data: URL is not a secure context and
      // has no navigator.gpu.
      args: [
        '--enable-unsafe-webgpu',
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  webServer: {
    command: `npx vite preview --port ${PORT} --strictPort`,
    url: `http://127.0.0.1:${PORT}`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
});
