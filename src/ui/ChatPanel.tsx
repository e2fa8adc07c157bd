import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { ChatTurn } from '../store/conversationSlice';
import { useAppStore } from '../store/useAppStore';
import { promptFits } from './TokenCounter';
import { useSendRequest } from './workerContext';

function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className="small"
      data-testid="copy-answer"
      onClick={() => {
        navigator.clipboard.writeText(text).then(
          () => {
            setCopied(true);
            setTimeout(() => setCopied(false), 1500);
          },
          (error: unknown) => useAppStore.getState().showError({ kind: 'generate', message: `Copying failed: ${(error as Error).message}` }),
        );
      }}
    >
      {copied ? 'Copied' : 'Copy'}
    </button>
  );
}

function Message({ turn }: { turn: ChatTurn }) {
  return (
    <li className={`message ${turn.role}`} data-testid={`message-${turn.role}`}>
      <div className="message-header">
        <span className="role">{turn.role === 'user' ? 'You' : 'Model'}</span>
        {turn.role === 'assistant' && <CopyButton text={turn.content} />}
        {turn.stats?.stoppedBy === 'abort' && <span className="hint">stopped</span>}
      </div>
      <div className="message-text">{turn.content || <em>(empty answer)</em>}</div>
    </li>
  );
}

function PrefillProgress() {
  const prefill = useAppStore((state) => state.prefill);
  const streamingText = useAppStore((state) => state.streamingText);
  if (!prefill || streamingText !== '') return null;
  return (
    <div className="prefill" data-testid="prefill-progress" aria-live="polite">
      <span>
        Prefill: chunk {prefill.done} of {prefill.total}
      </span>
      <progress max={prefill.total} value={prefill.done} aria-label={`Prefill chunk ${prefill.done} of ${prefill.total}`} />
    </div>
  );
}

/** The conversation, the streaming answer and the question box with Send, Stop and Reset. */
export function ChatPanel() {
  const send = useSendRequest();
  const inputId = useId();
  const { turns, streamingText, activeRequestId, draft, loaded, tokenCount } = useAppStore(
    useShallow((state) => ({
      turns: state.turns,
      streamingText: state.streamingText,
      activeRequestId: state.activeRequestId,
      draft: state.draft,
      loaded: state.loadState === 'loaded',
      tokenCount: state.tokenCount,
    })),
  );
  const streaming = activeRequestId !== null;
  const tooLong = tokenCount !== null && !promptFits(tokenCount.tokens, tokenCount.contextLength);
  const canSend = loaded && !streaming && draft.trim() !== '' && !tooLong;
  const listEnd = useRef<HTMLDivElement>(null);

  useEffect(() => {
    listEnd.current?.scrollIntoView?.({ block: 'end' });
  }, [turns.length, streamingText]);

  const submit = () => {
    if (!canSend) return;
    const state = useAppStore.getState();
    const request = state.submitQuestion();
    if (!request) return;
    state.dismissError();
    send({ type: 'generate', requestId: request.requestId, conversation: request.conversation, settings: state.generationSettings() });
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };

  const reset = () => {
    send({ type: 'reset' });
    useAppStore.getState().resetConversation();
  };

  let sendTitle = 'Send the question (Enter)';
  if (!loaded) sendTitle = 'Load a model first';
  else if (tooLong) sendTitle = 'The document and question do not fit in the context';

  return (
    <section className="panel chat-panel" aria-labelledby="chat-heading">
      <div className="panel-header">
        <h2 id="chat-heading">Chat</h2>
        <button type="button" data-testid="reset-button" onClick={reset} disabled={turns.length === 0 && !streaming}>
          Reset
        </button>
      </div>
      <ol className="messages" data-testid="messages" aria-live="polite">
        {turns.map((turn, index) => (
          <Message key={index} turn={turn} />
        ))}
        {streaming && (
          <li className="message assistant streaming" data-testid="message-streaming" aria-busy="true">
            <div className="message-header">
              <span className="role">Model</span>
            </div>
            <div className="message-text" data-testid="streaming-text">
              {streamingText || <em>Thinking…</em>}
            </div>
          </li>
        )}
      </ol>
      <div ref={listEnd} />
      <PrefillProgress />
      <div className="composer">
        <label htmlFor={inputId} className="visually-hidden">
          Question
        </label>
        <textarea
          id={inputId}
          data-testid="question-input"
          rows={2}
          placeholder={turns.length === 0 ? 'Ask a question about the document (Enter to send, Shift+Enter for a new line)' : 'Ask a follow-up question'}
          value={draft}
          onChange={(event) => useAppStore.getState().setDraft(event.target.value)}
          onKeyDown={onKeyDown}
        />
        {streaming ? (
          <button type="button" className="danger" data-testid="stop-button" onClick={() => send({ type: 'stop' })}>
            Stop
          </button>
        ) : (
          <button type="button" className="primary" data-testid="send-button" onClick={submit} disabled={!canSend} title={sendTitle}>
            Send
          </button>
        )}
      </div>
    </section>
  );
}
