/** The combined application state; each slice file creates one part of it. */
import type { StateCreator } from 'zustand';
import type { ConversationSlice } from './conversationSlice';
import type { ErrorSlice } from './errorSlice';
import type { MemorySlice } from './memorySlice';
import type { ModelSlice } from './modelSlice';
import type { SettingsSlice } from './settingsSlice';
import type { StatisticsSlice } from './statisticsSlice';
import type { PrefillStatsSlice } from './prefillStatsSlice';
import type { BenchmarkSlice } from './benchmarkSlice';

export type AppState = ModelSlice & ConversationSlice & SettingsSlice & StatisticsSlice & ErrorSlice & MemorySlice & PrefillStatsSlice & BenchmarkSlice;

/** A slice creator typed against the whole state, so actions may read other slices. */
export type SliceCreator<Slice> = StateCreator<AppState, [], [], Slice>;
