/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * Writes the tiny random-weight test models under public/models/ when they are
 * missing, so that `npm run dev`, `npm run build` and the tests work on a fresh clone.
 */
function tinyModels(): Plugin {
  return {
    name: 'tiny-models',
    async buildStart() {
      const { ensureTinyModels } = await import('./scripts/tiny-models');
      await ensureTinyModels();
    },
  };
}

export default defineConfig({
  plugins: [react(), tinyModels()],
  worker: { format: 'es' },
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          environment: 'node',
          include: ['src/**/*.test.{ts,tsx}', 'scripts/**/*.test.ts', 'bench/**/*.test.ts'],
          exclude: ['**/*.gpu.test.ts', 'node_modules/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'gpu',
          environment: 'node',
          include: ['src/**/*.gpu.test.ts', 'bench/**/*.gpu.test.ts'],
          setupFiles: ['test/setup-gpu.ts'],
          // Software Vulkan drivers are slow and a device is heavy: run files one at a time.
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
