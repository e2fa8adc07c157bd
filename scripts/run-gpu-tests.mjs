// Runs the GPU test project once per software Vulkan driver: SwiftShader (from Debian's
// chromium, f32 only, 1 GiB bindings) and Mesa lavapipe 25 (shader-f16, 128 MiB bindings).
// A missing driver fails the run; set GPU_DRIVERS=swiftshader (or lavapipe) to run one.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const DRIVERS = {
  swiftshader: '/usr/lib/chromium/vk_swiftshader_icd.json',
  lavapipe: '/usr/share/vulkan/icd.d/lvp_icd.json',
};

const selected = (process.env.GPU_DRIVERS ?? 'swiftshader,lavapipe').split(',').filter(Boolean);
const extraArgs = process.argv.slice(2);
let failed = false;
for (const name of selected) {
  const icd = DRIVERS[name];
  if (!icd) {
    console.error(`Unknown driver "${name}" in GPU_DRIVERS; use one of ${Object.keys(DRIVERS).join(', ')}.`);
    process.exit(2);
  }
  if (!existsSync(icd)) {
    console.error(`Vulkan driver ${name} not found at ${icd}. Install it as .ci/run does (chromium for SwiftShader, mesa-vulkan-drivers from bookworm-backports for lavapipe).`);
    failed = true;
    continue;
  }
  console.log(`\n=== GPU tests on ${name} (${icd}) ===`);
  const result = spawnSync('npx', ['vitest', 'run', '--project', 'gpu', ...extraArgs], {
    stdio: 'inherit',
    env: { ...process.env, VK_ICD_FILENAMES: icd },
  });
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
