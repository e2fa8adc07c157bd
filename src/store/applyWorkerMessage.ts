import type { WorkerResponse } from '../engine/protocol';
import type { AppState } from './types';

/** Turns one worker message into store actions. */
export function applyWorkerMessage(state: AppState, message: WorkerResponse): void {
  switch (message.type) {
    case 'probed':
      state.setProbe({ status: 'ready', gpu: message.gpu });
      return;
    case 'loadProgress':
      state.applyLoadProgress(message.phase, message.file, message.message);
      return;
    case 'loaded':
      state.finishLoad(message.model);
      return;
    case 'fitReport':
      state.applyFitReport(message.requestId, message.report, message.error);
      return;
    case 'cacheWarning':
      state.setCacheWarning(message.message);
      return;
    case 'tokenCount':
      state.applyTokenCount({ requestId: message.requestId, tokens: message.tokens, contextLength: message.contextLength });
      return;
    case 'prefillProgress':
      state.applyPrefillProgress(message.requestId, message.done, message.total);
      return;
    case 'token':
      state.appendToken(message.requestId, message.text);
      return;
    case 'done':
      state.finishAnswer(message.requestId, message.text, message.stats);
      return;
    case 'prefillStats':
      state.applyPrefillStats(message.stats);
      return;
    case 'reset':
    case 'stats':
      return;
    case 'benchmarkProgress':
    case 'needleCase':
    case 'needleDone':
    case 'qkvCapture':
    case 'headCurves':
    case 'benchmarkAborted':
      state.applyBenchmarkMessage(message);
      return;
    case 'error':
      if (message.kind === 'webgpu-unavailable' || message.kind === 'limit') {
        state.setProbe({ status: 'failed', kind: message.kind, message: message.message });
        if (state.loadState === 'loading') state.failLoad();
        return;
      }
      if (message.kind === 'load' && state.loadState === 'loading') state.failLoad();
      if (message.requestId !== undefined) {
        // A failed count is not worth a banner while the user is still typing, except a failure to count at all.
        if (message.requestId === state.countRequestId) {
          state.showError({ kind: message.kind, message: `Counting tokens failed: ${message.message}` });
          return;
        }
        if (!state.failBenchmark(message.requestId)) state.failAnswer(message.requestId);
      }
      state.showError({ kind: message.kind, message: message.message });
      return;
  }
}
