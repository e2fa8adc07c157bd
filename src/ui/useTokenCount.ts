import { useEffect } from 'react';
import type { SendRequest } from '../store/useInferenceWorker';
import { useAppStore } from '../store/useAppStore';

/** Delay after the last edit before the prompt is counted again; tokenizing 32k tokens takes a noticeable moment. */
const COUNT_DEBOUNCE_MS = 250;

/** Recounts the prompt tokens whenever the document, history, draft or model changes. */
export function useTokenCount(send: SendRequest): void {
  const document = useAppStore((state) => state.document);
  const draft = useAppStore((state) => state.draft);
  const turns = useAppStore((state) => state.turns);
  const systemPrompt = useAppStore((state) => state.systemPrompt);
  const loadedModel = useAppStore((state) => state.loadedModel);

  useEffect(() => {
    if (!loadedModel) return;
    const timer = setTimeout(() => {
      const state = useAppStore.getState();
      send({ type: 'countTokens', requestId: state.nextCountRequest(), conversation: state.conversationForCount() });
    }, COUNT_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [send, document, draft, turns, systemPrompt, loadedModel]);
}
