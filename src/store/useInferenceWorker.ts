/**
 * Creates the inference worker once per mount, turns its messages into store actions and
 * terminates it on unmount. Returns a function that posts a typed request.
 */
import { useCallback, useEffect, useRef } from 'react';
import type { WorkerRequest, WorkerResponse } from '../engine/protocol';
import { applyWorkerMessage } from './applyWorkerMessage';
import { useAppStore } from './useAppStore';

export type SendRequest = (request: WorkerRequest) => void;

export function useInferenceWorker(): SendRequest {
  const workerRef = useRef<Worker | null>(null);

  useEffect(() => {
    const worker = new Worker(new URL('../engine/worker.ts', import.meta.url), { type: 'module' });
    workerRef.current = worker;

    const onMessage = (event: MessageEvent<WorkerResponse>) => applyWorkerMessage(useAppStore.getState(), event.data);
    const onError = (event: ErrorEvent) => {
      useAppStore.getState().showError({ kind: 'protocol', message: `The inference worker failed: ${event.message || 'unknown error'}. Reload the page.` });
    };
    worker.addEventListener('message', onMessage);
    worker.addEventListener('error', onError);
    // The probe runs first, so an unsupported browser sees the explanation before choosing a model.
    worker.postMessage({ type: 'probe' } satisfies WorkerRequest);

    return () => {
      worker.removeEventListener('message', onMessage);
      worker.removeEventListener('error', onError);
      worker.terminate();
      workerRef.current = null;
    };
  }, []);

  return useCallback((request: WorkerRequest) => {
    const worker = workerRef.current;
    if (!worker) {
      useAppStore.getState().showError({ kind: 'protocol', message: 'The inference worker is not running. Reload the page.' });
      return;
    }
    worker.postMessage(request);
  }, []);
}
