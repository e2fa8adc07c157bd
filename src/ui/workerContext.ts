import { createContext, useContext } from 'react';
import type { SendRequest } from '../store/useInferenceWorker';

export const WorkerContext = createContext<SendRequest | null>(null);

/** Returns the function that posts requests to the inference worker. */
export function useSendRequest(): SendRequest {
  const send = useContext(WorkerContext);
  if (!send) throw new Error('useSendRequest must be used inside <WorkerContext.Provider>');
  return send;
}
