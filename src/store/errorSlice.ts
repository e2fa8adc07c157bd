import type { ErrorKind } from '../engine/protocol';
import type { SliceCreator } from './types';

export interface AppError {
  kind: ErrorKind;
  message: string;
}

export interface ErrorSlice {
  /** The latest worker error shown in the banner; WebGPU and limit failures show a full-page screen instead. */
  error: AppError | null;
  showError: (error: AppError) => void;
  dismissError: () => void;
}

export const createErrorSlice: SliceCreator<ErrorSlice> = (set) => ({
  error: null,
  showError: (error) => set({ error }),
  dismissError: () => set({ error: null }),
});
