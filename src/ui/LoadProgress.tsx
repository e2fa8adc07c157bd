import { useShallow } from 'zustand/react/shallow';
import { useAppStore } from '../store/useAppStore';
import { formatBytes } from './format';

const PHASE_LABEL = { download: 'Downloading', upload: 'Uploading weights to the GPU', compile: 'Compiling shaders' } as const;

/** One progress bar per model file, the current phase, and the loaded model's summary. */
export function LoadProgress() {
  const { loadState, loadPhase, loadMessage, fileProgress, loadedModel } = useAppStore(
    useShallow((state) => ({
      loadState: state.loadState,
      loadPhase: state.loadPhase,
      loadMessage: state.loadMessage,
      fileProgress: state.fileProgress,
      loadedModel: state.loadedModel,
    })),
  );

  return (
    <div className="load-progress" data-testid="load-progress" aria-live="polite">
      {loadState === 'loading' && loadPhase && (
        <p data-testid="load-phase">
          {PHASE_LABEL[loadPhase]}
          {loadMessage ? `: ${loadMessage}` : '…'}
        </p>
      )}
      {fileProgress.length > 0 && loadState !== 'loaded' && (
        <ul className="file-progress">
          {fileProgress.map((file) => {
            const label = `${file.file}: ${formatBytes(file.loaded)}${file.total !== undefined ? ` of ${formatBytes(file.total)}` : ''}${file.fromCache ? ' (cache)' : ''}`;
            return (
              <li key={file.file} data-testid="file-progress" data-file={file.file} data-from-cache={file.fromCache}>
                <span>{label}</span>
                <progress max={file.total ?? undefined} value={file.total !== undefined ? file.loaded : undefined} aria-label={label} />
                {file.note && (
                  <small className="hint" data-testid="file-retry">
                    {file.note}
                  </small>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {loadState === 'loaded' && loadedModel && (
        <div data-testid="model-loaded" className="model-info">
          <p>
            <strong>{loadedModel.name}</strong> loaded in {(loadedModel.loadMs / 1000).toFixed(1)} s
          </p>
          <p className="hint">
            {loadedModel.architecture}, {loadedModel.layers} layers, {loadedModel.heads} heads / {loadedModel.kvHeads} KV heads, context{' '}
            <span data-testid="context-length">{loadedModel.contextLength.toLocaleString('en-US')}</span> tokens, KV cache {loadedModel.kvDtype}
          </p>
          <details>
            <summary>Files</summary>
            <ul>
              {fileProgress.map((file) => (
                <li key={file.file} data-testid="file-progress" data-file={file.file} data-from-cache={file.fromCache}>
                  {file.file}: {formatBytes(file.loaded)}
                  {file.fromCache ? ' from cache' : ' downloaded'}
                </li>
              ))}
            </ul>
          </details>
        </div>
      )}
    </div>
  );
}
