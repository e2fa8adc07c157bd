import type { GenerationStats } from '../engine/protocol';
import type { SliceCreator } from './types';

export interface StatisticsSlice {
  /** Statistics of the last finished answer. */
  lastStats: GenerationStats | null;
  /** Tokens streamed in the current answer and when the first one arrived, for a live tokens/s figure. */
  liveTokens: number;
  liveFirstTokenAt: number | null;

  recordLiveToken: (now: number) => void;
  setLastStats: (stats: GenerationStats | null) => void;
}

export const createStatisticsSlice: SliceCreator<StatisticsSlice> = (set) => ({
  lastStats: null,
  liveTokens: 0,
  liveFirstTokenAt: null,

  recordLiveToken: (now) => set((state) => ({ liveTokens: state.liveTokens + 1, liveFirstTokenAt: state.liveFirstTokenAt ?? now })),
  setLastStats: (lastStats) => set({ lastStats, liveTokens: 0, liveFirstTokenAt: null }),
});
