/** The one application store, combining the slices; components select single fields or use useShallow. */
import { create } from 'zustand';
import { createConversationSlice } from './conversationSlice';
import { createErrorSlice } from './errorSlice';
import { createMemorySlice } from './memorySlice';
import { createModelSlice } from './modelSlice';
import { createSettingsSlice } from './settingsSlice';
import { createStatisticsSlice } from './statisticsSlice';
import { createPrefillStatsSlice } from './prefillStatsSlice';
import { createBenchmarkSlice } from './benchmarkSlice';
import type { AppState } from './types';

/** Creates a fresh store; tests build their own, the app uses `useAppStore`. */
export function createAppStore() {
  return create<AppState>()((...args) => ({
    ...createModelSlice(...args),
    ...createConversationSlice(...args),
    ...createSettingsSlice(...args),
    ...createStatisticsSlice(...args),
    ...createPrefillStatsSlice(...args),
    ...createErrorSlice(...args),
    ...createMemorySlice(...args),
    ...createBenchmarkSlice(...args),
  }));
}

export const useAppStore = createAppStore();

export type { AppState } from './types';
