import { DEFAULT_ANCHOR_PARAMS, SHORT_CONTEXT_ANCHOR_PARAMS, type AnchorParams, type AttentionMode } from '../attention/types';
import { DEFAULT_HUB_BASE_URL } from '../engine/hub';
import type { GenerationSettings, SamplingSettings } from '../engine/protocol';
import { DEFAULT_SYSTEM_PROMPT } from '../tokenizer/chatTemplate';
import type { SliceCreator } from './types';

export type AnchorPreset = 'default' | 'short-context' | 'custom';

export const ANCHOR_PRESETS: Record<Exclude<AnchorPreset, 'custom'>, AnchorParams> = {
  default: DEFAULT_ANCHOR_PARAMS,
  'short-context': SHORT_CONTEXT_ANCHOR_PARAMS,
};

export interface SettingsSlice {
  attentionKind: AttentionMode['kind'];
  anchorParams: AnchorParams;
  anchorPreset: AnchorPreset;
  /** Prompt tokens per prefill chunk. */
  chunkSize: number;
  sampling: SamplingSettings;
  maxNewTokens: number;
  /** KV cache length requested at load; null uses the model's max_position_embeddings. */
  contextLength: number | null;
  kvDtype: 'f16' | 'f32';
  /** Quantize the linear weights to 8 bits (per-group scales) at the next load. */
  quantizeWeights: boolean;
  systemPrompt: string;
  hubBaseUrl: string;
  hubRevision: string;
  /** Hugging Face access token for gated repositories; kept in memory only, never stored. */
  hubToken: string;

  setAttentionKind: (kind: AttentionMode['kind']) => void;
  setAnchorParam: <K extends keyof AnchorParams>(key: K, value: AnchorParams[K]) => void;
  applyAnchorPreset: (preset: Exclude<AnchorPreset, 'custom'>) => void;
  setChunkSize: (chunkSize: number) => void;
  setSampling: (sampling: Partial<SamplingSettings>) => void;
  setMaxNewTokens: (maxNewTokens: number) => void;
  setContextLength: (contextLength: number | null) => void;
  setKvDtype: (kvDtype: 'f16' | 'f32') => void;
  setQuantizeWeights: (quantizeWeights: boolean) => void;
  setSystemPrompt: (systemPrompt: string) => void;
  setHubBaseUrl: (hubBaseUrl: string) => void;
  setHubRevision: (hubRevision: string) => void;
  setHubToken: (hubToken: string) => void;
  generationSettings: () => GenerationSettings;
}

export const createSettingsSlice: SliceCreator<SettingsSlice> = (set, get) => ({
  attentionKind: 'anchor',
  anchorParams: DEFAULT_ANCHOR_PARAMS,
  anchorPreset: 'default',
  chunkSize: 2048,
  sampling: { temperature: 0.7, topK: 40, topP: 0.9, seed: 1 },
  maxNewTokens: 256,
  contextLength: null,
  kvDtype: 'f16',
  quantizeWeights: false,
  systemPrompt: DEFAULT_SYSTEM_PROMPT,
  hubBaseUrl: DEFAULT_HUB_BASE_URL,
  hubRevision: 'main',
  hubToken: '',

  setAttentionKind: (attentionKind) => set({ attentionKind }),
  setAnchorParam: (key, value) => set((state) => ({ anchorParams: { ...state.anchorParams, [key]: value }, anchorPreset: 'custom' })),
  // The chunk size follows the group size, because each prefill chunk is one AnchorAttention group.
  applyAnchorPreset: (preset) => {
    const params = ANCHOR_PRESETS[preset];
    set({ anchorParams: params, anchorPreset: preset, chunkSize: params.blockSize * params.step });
  },
  setChunkSize: (chunkSize) => set({ chunkSize }),
  setSampling: (sampling) => set((state) => ({ sampling: { ...state.sampling, ...sampling } })),
  setMaxNewTokens: (maxNewTokens) => set({ maxNewTokens }),
  setContextLength: (contextLength) => set({ contextLength }),
  setKvDtype: (kvDtype) => set({ kvDtype }),
  setQuantizeWeights: (quantizeWeights) => set({ quantizeWeights }),
  setSystemPrompt: (systemPrompt) => set({ systemPrompt }),
  setHubBaseUrl: (hubBaseUrl) => set({ hubBaseUrl }),
  setHubRevision: (hubRevision) => set({ hubRevision }),
  setHubToken: (hubToken) => set({ hubToken }),

  generationSettings: () => {
    const { attentionKind, anchorParams, chunkSize, sampling, maxNewTokens, prefillStatsOptions } = get();
    const attention: AttentionMode = attentionKind === 'anchor' ? { kind: 'anchor', params: anchorParams } : { kind: 'dense' };
    return { attention, chunkSize, sampling, maxNewTokens, prefillStats: prefillStatsOptions };
  },
});
