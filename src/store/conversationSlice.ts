import type { Conversation, GenerationStats } from '../engine/protocol';
import type { ChatMessage } from '../tokenizer/chatTemplate';
import type { SliceCreator } from './types';

export interface ChatTurn extends ChatMessage {
  /** Statistics of an assistant turn; absent on user turns. */
  stats?: GenerationStats;
}

/** The latest token count of document + history + draft question, with the chat template applied. */
export interface TokenCount {
  requestId: number;
  tokens: number;
  contextLength: number;
}

export interface ConversationSlice {
  document: string;
  /** Name of the file the document came from, if any. */
  documentName: string | null;
  draft: string;
  turns: ChatTurn[];
  /** Id of the generate request in flight, or null when idle. */
  activeRequestId: number | null;
  streamingText: string;
  prefill: { done: number; total: number } | null;
  tokenCount: TokenCount | null;
  /** Id of the newest countTokens request; older answers are dropped. */
  countRequestId: number;

  setDocument: (document: string, documentName?: string | null) => void;
  setDraft: (draft: string) => void;
  /** Returns the conversation to count, with the draft as the pending question. */
  conversationForCount: () => Conversation;
  nextCountRequest: () => number;
  applyTokenCount: (count: TokenCount) => void;
  /** Moves the draft into the history and returns the request to send, or null when there is nothing to ask. */
  submitQuestion: () => { requestId: number; conversation: Conversation } | null;
  applyPrefillProgress: (requestId: number, done: number, total: number) => void;
  appendToken: (requestId: number, text: string) => void;
  finishAnswer: (requestId: number, text: string, stats: GenerationStats) => void;
  /** Drops the pending question after a failed request and puts it back into the draft, so nothing typed is lost. */
  failAnswer: (requestId: number) => void;
  resetConversation: () => void;
}

let requestCounter = 0;

/** Ids for countTokens and generate requests, unique within the page. */
export function nextRequestId(): number {
  requestCounter += 1;
  return requestCounter;
}

export const createConversationSlice: SliceCreator<ConversationSlice> = (set, get) => ({
  document: '',
  documentName: null,
  draft: '',
  turns: [],
  activeRequestId: null,
  streamingText: '',
  prefill: null,
  tokenCount: null,
  countRequestId: 0,

  setDocument: (document, documentName = null) => set({ document, documentName }),
  setDraft: (draft) => set({ draft }),

  conversationForCount: () => {
    const { systemPrompt, document, turns, draft } = get();
    return {
      system: systemPrompt,
      document,
      turns: [...turns.map(({ role, content }) => ({ role, content })), { role: 'user', content: draft }],
    };
  },
  nextCountRequest: () => {
    const countRequestId = nextRequestId();
    set({ countRequestId });
    return countRequestId;
  },
  applyTokenCount: (count) => {
    if (count.requestId === get().countRequestId) set({ tokenCount: count });
  },

  submitQuestion: () => {
    const { draft, turns, document, systemPrompt, activeRequestId } = get();
    const question = draft.trim();
    if (question === '' || activeRequestId !== null) return null;
    const requestId = nextRequestId();
    const nextTurns: ChatTurn[] = [...turns, { role: 'user', content: question }];
    set({ turns: nextTurns, draft: '', activeRequestId: requestId, streamingText: '', prefill: null });
    get().setLastStats(null);
    return {
      requestId,
      conversation: { system: systemPrompt, document, turns: nextTurns.map(({ role, content }) => ({ role, content })) },
    };
  },

  applyPrefillProgress: (requestId, done, total) => {
    if (requestId === get().activeRequestId) set({ prefill: { done, total } });
  },
  appendToken: (requestId, text) => {
    if (requestId !== get().activeRequestId) return;
    set((state) => ({ streamingText: state.streamingText + text }));
    get().recordLiveToken(performance.now());
  },
  finishAnswer: (requestId, text, stats) => {
    if (requestId !== get().activeRequestId) return;
    set((state) => ({
      turns: [...state.turns, { role: 'assistant', content: text, stats }],
      activeRequestId: null,
      streamingText: '',
      prefill: null,
    }));
    get().setLastStats(stats);
  },
  failAnswer: (requestId) => {
    const { activeRequestId, turns, draft } = get();
    if (requestId !== activeRequestId) return;
    const pending = turns.at(-1);
    const restored = pending?.role === 'user' ? pending.content : '';
    set({
      turns: pending?.role === 'user' ? turns.slice(0, -1) : turns,
      draft: draft.trim() === '' ? restored : draft,
      activeRequestId: null,
      streamingText: '',
      prefill: null,
    });
  },
  resetConversation: () => set({ turns: [], activeRequestId: null, streamingText: '', prefill: null, lastStats: null }),
});
