import type { FileLoadProgress, GpuSummary, LoadedModelInfo, LoadPhase, ModelRef } from '../engine/protocol';
import { FALLBACK_BUNDLED_MODELS } from '../engine/models';
import type { SliceCreator } from './types';

/** The picker's choice: a bundled test model, a listed hub model, or a repo id typed by the user. */
export type ModelChoice = { kind: 'bundled'; id: string } | { kind: 'hub'; repoId: string } | { kind: 'custom' } | { kind: 'files' };

export type LoadState = 'idle' | 'loading' | 'loaded' | 'failed';

/** Outcome of the WebGPU feature probe; 'failed' shows the full-page screen. */
export type ProbeState = { status: 'pending' } | { status: 'ready'; gpu: GpuSummary } | { status: 'failed'; kind: 'webgpu-unavailable' | 'limit'; message: string };

export interface ModelSlice {
  bundledModels: string[];
  choice: ModelChoice;
  customRepoId: string;
  localFiles: File[];
  probe: ProbeState;
  loadState: LoadState;
  loadPhase: LoadPhase | null;
  loadMessage: string;
  /** Per-file transfer progress of the current load, in the order the files started. */
  fileProgress: FileLoadProgress[];
  loadedModel: LoadedModelInfo | null;

  setBundledModels: (names: string[]) => void;
  chooseModel: (choice: ModelChoice) => void;
  setCustomRepoId: (repoId: string) => void;
  setLocalFiles: (files: File[]) => void;
  setProbe: (probe: ProbeState) => void;
  /** Returns the reference to load for the current choice, or throws when it is incomplete. */
  modelRef: () => ModelRef;
  startLoad: () => void;
  applyLoadProgress: (phase: LoadPhase, file?: FileLoadProgress, message?: string) => void;
  finishLoad: (model: LoadedModelInfo) => void;
  failLoad: () => void;
}

export const createModelSlice: SliceCreator<ModelSlice> = (set, get) => ({
  bundledModels: [...FALLBACK_BUNDLED_MODELS],
  choice: { kind: 'bundled', id: FALLBACK_BUNDLED_MODELS[0] },
  customRepoId: '',
  localFiles: [],
  probe: { status: 'pending' },
  loadState: 'idle',
  loadPhase: null,
  loadMessage: '',
  fileProgress: [],
  loadedModel: null,

  setBundledModels: (names) =>
    set((state) => {
      const choice = state.choice.kind === 'bundled' && !names.includes(state.choice.id) && names.length > 0 ? { kind: 'bundled' as const, id: names[0] } : state.choice;
      return { bundledModels: names, choice };
    }),
  chooseModel: (choice) => set({ choice }),
  setCustomRepoId: (customRepoId) => set({ customRepoId }),
  setLocalFiles: (localFiles) => set({ localFiles }),
  setProbe: (probe) => set({ probe }),

  modelRef: () => {
    const { choice, customRepoId, localFiles, hubBaseUrl, hubRevision, hubToken, cacheModels } = get();
    const hub = (repoId: string): ModelRef => ({
      kind: 'hub',
      repoId,
      revision: hubRevision.trim() || 'main',
      baseUrl: hubBaseUrl.trim(),
      accessToken: hubToken.trim() || undefined,
      cache: cacheModels,
    });
    switch (choice.kind) {
      case 'bundled':
        return { kind: 'bundled', id: choice.id };
      case 'hub':
        return hub(choice.repoId);
      case 'custom':
        if (customRepoId.trim() === '') throw new Error('Enter a repository id such as Qwen/Qwen2.5-0.5B-Instruct.');
        return hub(customRepoId.trim());
      case 'files':
        if (localFiles.length === 0) throw new Error("Open the model's folder first.");
        return { kind: 'files', files: localFiles };
    }
  },

  startLoad: () => set({ loadState: 'loading', loadPhase: 'download', loadMessage: '', fileProgress: [], loadedModel: null }),

  applyLoadProgress: (phase, file, message) =>
    set((state) => {
      // A message belongs to its phase, so a new phase without one clears the old text.
      const keepMessage = phase === state.loadPhase ? state.loadMessage : '';
      const update: Partial<ModelSlice> = { loadPhase: phase, loadMessage: message ?? keepMessage };
      if (file) {
        const index = state.fileProgress.findIndex((entry) => entry.file === file.file);
        const fileProgress = [...state.fileProgress];
        if (index === -1) fileProgress.push(file);
        else fileProgress[index] = file;
        update.fileProgress = fileProgress;
      }
      return update;
    }),

  finishLoad: (model) => set({ loadState: 'loaded', loadedModel: model, loadPhase: null, loadMessage: '' }),
  failLoad: () => set({ loadState: 'failed', loadPhase: null }),
});
