import { join } from 'node:path';
import { it } from 'vitest';
import { relativeL2 } from '../../test/expectClose';
import { FileSystemModelSource } from '../../test/fsSource';
import { gpuRuntime } from '../../test/gpu';
import { readF32 } from '../gpu/buffers';
import { ComputeBatch } from '../gpu/dispatch';
import { parseModelConfig } from './config';
import { encodeChunk, ForwardWorkspace } from './forward';
import { KvCache } from './kvCache';
import { ReferenceModel } from './reference';
import { fetchJsonIfPresent } from './source';
import { readWeightsF32, uploadWeights } from './weights';

for (const name of ['tiny-llama', 'tiny-qwen2', 'tiny-qwen3']) {
  it(name, async () => {
    const runtime = (await gpuRuntime())!;
    const source = new FileSystemModelSource(join('public/models', name));
    const config = parseModelConfig(await fetchJsonIfPresent(source, 'config.json'), await fetchJsonIfPresent(source, 'generation_config.json'));
    const kvDtype = name === 'tiny-llama' ? 'f32' : 'f16';
    const weights = await uploadWeights(runtime, source, config);
    const cache = new KvCache(runtime, config, 64, kvDtype);
    const ws = new ForwardWorkspace(runtime, config, 8);
    const prompt = Array.from({ length: 13 }, (_, i) => (i * 7919 + 3) % 150000);
    for (let start = 0; start < prompt.length; start += 8) {
      const chunk = prompt.slice(start, start + 8);
      runtime.device.queue.writeBuffer(ws.tokens.buffer, 0, new Uint32Array(chunk));
      const batch = new ComputeBatch(runtime, 'x');
      encodeChunk(batch, { weights, cache, workspace: ws, start, rows: chunk.length, attention: { kind: 'prefill', mode: { kind: 'dense' }, totalTokens: prompt.length } });
      await batch.submit();
    }
    const got = await readF32(runtime.device, ws.logits);
    const ref = new ReferenceModel(config, await readWeightsF32(source, config), { kvDtype }).append(prompt);
    console.log(name, 'relL2', relativeL2(got, ref), got.slice(0, 4), ref.slice(0, 4));
  });
}
