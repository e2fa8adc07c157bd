import { useId } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useAppStore } from '../store/useAppStore';
import { NumberField } from './NumberField';

/** Chunk size, sampling, answer length, context length and KV cache precision. */
export function GenerationSettings() {
  const ids = { system: useId(), kv: useId(), q8: useId() };
  const { chunkSize, sampling, maxNewTokens, contextLength, kvDtype, quantizeWeights, systemPrompt } = useAppStore(
    useShallow((state) => ({
      chunkSize: state.chunkSize,
      sampling: state.sampling,
      maxNewTokens: state.maxNewTokens,
      contextLength: state.contextLength,
      kvDtype: state.kvDtype,
      quantizeWeights: state.quantizeWeights,
      systemPrompt: state.systemPrompt,
    })),
  );
  const store = useAppStore.getState;

  return (
    <details className="panel settings" data-testid="generation-settings">
      <summary>
        <h2>Generation settings</h2>
      </summary>
      <div className="grid-2">
        <NumberField label="Max new tokens" integer min={1} value={maxNewTokens} onChange={(value) => store().setMaxNewTokens(value)} testId="max-new-tokens" />
        <NumberField label="Prefill chunk (tokens)" integer min={16} value={chunkSize} onChange={(value) => store().setChunkSize(value)} testId="chunk-size" />
        <NumberField label="Temperature" min={0} max={2} step={0.05} value={sampling.temperature} onChange={(value) => store().setSampling({ temperature: value })} testId="temperature" hint="0 picks the most likely token" />
        <NumberField label="Top-k" integer min={0} value={sampling.topK} onChange={(value) => store().setSampling({ topK: value })} testId="top-k" hint="0 turns top-k off" />
        <NumberField label="Top-p" min={0} max={1} step={0.05} value={sampling.topP} onChange={(value) => store().setSampling({ topP: value })} testId="top-p" />
        <NumberField label="Seed" integer min={0} value={sampling.seed} onChange={(value) => store().setSampling({ seed: value })} testId="seed" />
        <NumberField
          label="Context length (tokens)"
          integer
          min={0}
          value={contextLength ?? 0}
          onChange={(value) => store().setContextLength(value === 0 ? null : value)}
          testId="context-length-setting"
          hint="KV cache size at the next load; 0 uses the model's maximum"
        />
        <div className="field">
          <label htmlFor={ids.kv}>KV cache precision</label>
          <select id={ids.kv} value={kvDtype} onChange={(event) => store().setKvDtype(event.target.value as 'f16' | 'f32')}>
            <option value="f16">f16 (half the memory)</option>
            <option value="f32">f32</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.q8}>
            <input
              id={ids.q8}
              type="checkbox"
              data-testid="quantize-q8"
              checked={quantizeWeights}
              onChange={(event) => store().setQuantizeWeights(event.target.checked)}
            />{' '}
            8-bit weights (q8)
          </label>
          <small className="hint">At the next load: about 0.56 of bf16's weight memory, with a small loss of accuracy</small>
        </div>
      </div>
      <label htmlFor={ids.system}>System prompt</label>
      <textarea id={ids.system} data-testid="system-prompt" rows={3} value={systemPrompt} onChange={(event) => store().setSystemPrompt(event.target.value)} />
    </details>
  );
}
