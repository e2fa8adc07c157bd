import { useAppStore } from '../store/useAppStore';

/** The latest worker error, with a button to dismiss it. */
export function ErrorBanner() {
  const error = useAppStore((state) => state.error);
  const dismissError = useAppStore((state) => state.dismissError);
  if (!error) return null;
  return (
    <div className="error-banner" role="alert" data-testid="error-banner" data-kind={error.kind}>
      <p>{error.message}</p>
      <button type="button" onClick={dismissError} aria-label="Dismiss error">
        Dismiss
      </button>
    </div>
  );
}
