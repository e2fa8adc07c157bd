import { useShallow } from 'zustand/react/shallow';
import { useAppStore } from '../store/useAppStore';
import { formatCount } from './format';

/** Returns whether the counted prompt leaves room for at least one answer token. */
export function promptFits(tokens: number, contextLength: number): boolean {
  return tokens < contextLength;
}

/** "12,345 / 32,768 tokens", and a clear message with the counts when the prompt does not fit. */
export function TokenCounter() {
  const { tokenCount, stale, loaded, maxNewTokens } = useAppStore(
    useShallow((state) => ({
      tokenCount: state.tokenCount,
      stale: state.tokenCountVersion !== state.editVersion,
      loaded: state.loadState === 'loaded',
      maxNewTokens: state.maxNewTokens,
    })),
  );
  if (!loaded) return <p className="token-count hint" data-testid="token-count">Load a model to count tokens.</p>;
  if (!tokenCount) return <p className="token-count hint" data-testid="token-count">Counting tokens…</p>;

  const { tokens, contextLength } = tokenCount;
  const fits = promptFits(tokens, contextLength);
  const room = contextLength - tokens;
  return (
    <div aria-live="polite">
      <p
        className={`token-count ${fits ? '' : 'over'} ${stale ? 'stale' : ''}`}
        data-testid="token-count"
        data-tokens={tokens}
        data-context={contextLength}
        data-stale={stale}
        title={stale ? 'Recounting after your edit' : undefined}
      >
        {formatCount(tokens)} / {formatCount(contextLength)} tokens
      </p>
      {!fits && (
        <p className="too-long" role="alert" data-testid="too-long-message">
          The document and question are {formatCount(tokens)} tokens, but the model's context holds {formatCount(contextLength)} tokens,
          answer included. Remove at least {formatCount(tokens - contextLength + 1)} tokens from the document, or load the model with a
          longer context length. Nothing is cut automatically.
        </p>
      )}
      {fits && room < maxNewTokens && (
        <p className="hint" data-testid="short-answer-warning">
          Only {formatCount(room)} tokens are left for the answer (max new tokens is {formatCount(maxNewTokens)}), so it may stop early.
        </p>
      )}
    </div>
  );
}
