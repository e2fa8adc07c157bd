import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH, WEBGPU_FLAG } from './e2e/chromium';

const PORT = 4173;

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  // Software WebGPU (SwiftShader) needs minutes to load and warm up even the tiny models, and runs one device at a time.
  timeout: 1_500_000,
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
    // Debian's chromium with SwiftShader WebGPU; e2e/chromium.ts records which flags that needs.
    launchOptions: { executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, WEBGPU_FLAG] },
  },
  webServer: {
    command: `npx vite preview --port ${PORT} --strictPort`,
    url: `http://127.0.0.1:${PORT}`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
});
