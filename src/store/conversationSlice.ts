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
  /** Id of the newest countTokens request; responses to older requests are dropped. */
  countRequestId: number;
  /** Bumped by every edit of what is counted; the count is current when it was taken at this version. */
  editVersion: number;
  /** editVersion when the newest countTokens request was sent, and when the shown count was taken. */
  countRequestVersion: number;
  tokenCountVersion: number;

  setDocument: (document: string, documentName?: string | null) => void;
  setDraft: (draft: string) => void;
  /** Returns the conversation to count: the history and the draft as the next question, or the pending question while one streams. */
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
  editVersion: 0,
  countRequestVersion: -1,
  tokenCountVersion: -1,

  setDocument: (document, documentName = null) => set((state) => ({ document, documentName, editVersion: state.editVersion + 1 })),
  setDraft: (draft) => set((state) => ({ draft, editVersion: state.editVersion + 1 })),

  conversationForCount: () => {
    const { systemPrompt, document, turns, draft } = get();
    const history = turns.map(({ role, content }): ChatMessage => ({ role, content }));
    // While an answer streams, the last turn is the pending question, and the draft is not sent yet.
    const pendingQuestion = history.at(-1)?.role === 'user';
    return { system: systemPrompt, document, turns: pendingQuestion ? history : [...history, { role: 'user', content: draft }] };
  },
  nextCountRequest: () => {
    const countRequestId = nextRequestId();
    set((state) => ({ countRequestId, countRequestVersion: state.editVersion }));
    return countRequestId;
  },
  applyTokenCount: (count) => {
    if (count.requestId === get().countRequestId) set((state) => ({ tokenCount: count, tokenCountVersion: state.countRequestVersion }));
  },

  submitQuestion: () => {
    const { draft, turns, document, systemPrompt, activeRequestId } = get();
    const question = draft.trim();
    if (question === '' || activeRequestId !== null) return null;
    const requestId = nextRequestId();
    const nextTurns: ChatTurn[] = [...turns, { role: 'user', content: question }];
    set((state) => ({ turns: nextTurns, draft: '', activeRequestId: requestId, streamingText: '', prefill: null, editVersion: state.editVersion + 1 }));
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
      editVersion: state.editVersion + 1,
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
    set((state) => ({
      editVersion: state.editVersion + 1,
      turns: pending?.role === 'user' ? turns.slice(0, -1) : turns,
      draft: draft.trim() === '' ? restored : draft,
      activeRequestId: null,
      streamingText: '',
      prefill: null,
    }));
  },
  resetConversation: () =>
    set((state) => ({ turns: [], activeRequestId: null, streamingText: '', prefill: null, lastStats: null, editVersion: state.editVersion + 1 })),
});
