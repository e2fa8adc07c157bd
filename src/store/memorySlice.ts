import { DEFAULT_MEMORY_BUDGET_BYTES, type FitSettings, type MemoryFitReport } from '../engine/memoryFit';
import type { SliceCreator } from './types';

/** The memory check before loading and where downloaded files are kept. */
export interface MemorySlice {
  /** GPU memory the model may use, in bytes; browsers report no free-VRAM figure, so the user sets it. */
  memoryBudgetBytes: number;
  /** false keeps downloaded files in memory only, with no Cache API entry. */
  cacheModels: boolean;
  /** requestId of the checkFit request in flight, or null. */
  fitRequestId: number | null;
  /** The latest memory check, of a checkFit request or of a load. */
  fitReport: MemoryFitReport | null;
  /** Error message of the latest check, such as an unsupported architecture. */
  fitError: string | null;
  /** A download that could not be cached, with the storage figures. */
  cacheWarning: string | null;

  setMemoryBudgetBytes: (bytes: number) => void;
  setCacheModels: (cacheModels: boolean) => void;
  /** Marks a checkFit request as sent and returns its id. */
  startFitCheck: () => number;
  applyFitReport: (requestId: number | undefined, report: MemoryFitReport | undefined, error: string | undefined) => void;
  setCacheWarning: (message: string | null) => void;
  /** The fit settings that load and checkFit requests carry. */
  fitSettings: () => FitSettings;
}

let nextFitRequestId = 1;

export const createMemorySlice: SliceCreator<MemorySlice> = (set, get) => ({
  memoryBudgetBytes: DEFAULT_MEMORY_BUDGET_BYTES,
  cacheModels: true,
  fitRequestId: null,
  fitReport: null,
  fitError: null,
  cacheWarning: null,

  setMemoryBudgetBytes: (memoryBudgetBytes) => set({ memoryBudgetBytes }),
  setCacheModels: (cacheModels) => set({ cacheModels }),
  startFitCheck: () => {
    const requestId = nextFitRequestId++;
    set({ fitRequestId: requestId, fitReport: null, fitError: null });
    return requestId;
  },
  applyFitReport: (requestId, report, error) =>
    set((state) => {
      // A response to an older checkFit request is stale once a newer one is in flight.
      if (requestId !== undefined && requestId !== state.fitRequestId) return {};
      return { fitRequestId: null, fitReport: report ?? null, fitError: error ?? null };
    }),
  setCacheWarning: (cacheWarning) => set({ cacheWarning }),
  fitSettings: () => {
    const { memoryBudgetBytes, chunkSize, attentionKind, anchorParams, quantizeWeights } = get();
    return { budgetBytes: memoryBudgetBytes, chunkSize, attention: attentionKind, anchorParams, quantize: quantizeWeights ? 'q8' : null };
  },
});
