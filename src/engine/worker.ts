/**
 * The dedicated module worker that runs the model, so a long prefill never blocks the page.
 * It hosts one Engine and forwards every message to it.
 */
import { Engine } from './engine';
import type { WorkerRequest, WorkerResponse } from './protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;

const engine = new Engine((message: WorkerResponse) => scope.postMessage(message), {
  gpu: scope.navigator.gpu,
  origin: scope.location.origin,
});

scope.addEventListener('message', (event: MessageEvent<WorkerRequest>) => {
  void engine.handle(event.data);
});
