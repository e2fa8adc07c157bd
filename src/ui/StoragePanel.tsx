import { useCallback, useEffect, useId, useState } from 'react';
import { CacheApiStore } from '../engine/cacheStore';
import { MODEL_CACHE_NAME } from '../engine/hub';
import { deleteCachedModel, listCachedModels, requestPersistentStorage, storageFigures, type CachedModel, type StorageFigures } from '../engine/storage';
import { useAppStore } from '../store/useAppStore';
import { formatBytes } from './format';

/** The model cache of this origin, opened once; the worker writes to the same named cache. */
const store = new CacheApiStore(MODEL_CACHE_NAME);

interface StorageSnapshot {
  models: CachedModel[];
  figures: StorageFigures;
  listError: string | null;
}

async function readStorage(): Promise<StorageSnapshot> {
  let models: CachedModel[] = [];
  let listError: string | null = null;
  try {
    models = await listCachedModels(store);
  } catch (error) {
    listError = `The model cache cannot be read: ${(error as Error).message}`;
  }
  return { models, figures: await storageFigures(), listError };
}

/** Cached models with their sizes and Delete buttons, storage usage and quota, persistence, and the memory-only setting. */
export function StoragePanel() {
  const memoryOnlyId = useId();
  const [models, setModels] = useState<CachedModel[] | null>(null);
  const [figures, setFigures] = useState<StorageFigures>({});
  const [listError, setListError] = useState<string | null>(null);
  const [persistResult, setPersistResult] = useState<string | null>(null);
  const cacheModels = useAppStore((state) => state.cacheModels);
  const cacheWarning = useAppStore((state) => state.cacheWarning);
  const loadState = useAppStore((state) => state.loadState);

  const apply = useCallback((snapshot: StorageSnapshot) => {
    setModels(snapshot.models);
    setFigures(snapshot.figures);
    setListError(snapshot.listError);
  }, []);
  const refresh = () => readStorage().then(apply);

  // A finished or failed load may have added files, so the list is read again then.
  useEffect(() => {
    if (loadState === 'loading') return;
    let cancelled = false;
    void readStorage().then((snapshot) => {
      if (!cancelled) apply(snapshot);
    });
    return () => {
      cancelled = true;
    };
  }, [loadState, apply]);

  const remove = async (model: CachedModel) => {
    await deleteCachedModel(store, model.key);
    await refresh();
  };

  const persist = async () => {
    try {
      const granted = await requestPersistentStorage();
      setPersistResult(granted ? 'Granted: the browser will not evict the cached models under storage pressure.' : 'Not granted: the browser may evict cached models when storage runs low.');
    } catch (error) {
      setPersistResult((error as Error).message);
    }
    setFigures(await storageFigures());
  };

  return (
    <section className="panel" aria-labelledby="storage-heading" data-testid="storage-panel">
      <h2 id="storage-heading">Storage</h2>
      <p className="hint" data-testid="storage-usage">
        {figures.usage !== undefined && figures.quota !== undefined
          ? `This site uses ${formatBytes(figures.usage)} of a ${formatBytes(figures.quota)} quota (browser estimate).`
          : 'The browser does not report storage usage.'}
        {figures.persisted !== undefined && ` Persistent storage: ${figures.persisted ? 'yes' : 'no'}.`}
      </p>
      {cacheWarning && (
        <p className="error-text" role="alert" data-testid="cache-warning">
          {cacheWarning}
        </p>
      )}
      <div className="checkbox">
        <input
          id={memoryOnlyId}
          type="checkbox"
          data-testid="memory-only"
          checked={!cacheModels}
          onChange={(event) => useAppStore.getState().setCacheModels(!event.target.checked)}
        />
        <label htmlFor={memoryOnlyId}>Keep downloaded models in memory only (no browser cache)</label>
      </div>
      <button type="button" data-testid="persist-button" onClick={() => void persist()}>
        Request persistent storage
      </button>
      {persistResult && <p className="hint" data-testid="persist-result">{persistResult}</p>}

      <h3>Cached models</h3>
      {listError && <p className="error-text">{listError}</p>}
      {models !== null && models.length === 0 && !listError && <p className="hint" data-testid="cache-empty">No models are cached.</p>}
      <ul className="cached-models">
        {models?.map((model) => (
          <li key={model.key} data-testid="cached-model" data-repo={model.repoId} data-bytes={model.bytes}>
            <span title={model.key}>
              {model.repoId} ({model.revision}): {formatBytes(model.bytes)} in {model.files.length} files
            </span>
            <button type="button" data-testid="delete-cached-model" onClick={() => void remove(model)} disabled={loadState === 'loading'}>
              Delete
            </button>
          </li>
        ))}
      </ul>
      <button type="button" data-testid="refresh-storage" onClick={() => void refresh()}>
        Refresh
      </button>
    </section>
  );
}
