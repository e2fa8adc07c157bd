import { useId } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { HUB_MODELS, bundledEntry } from '../engine/models';
import type { ModelChoice } from '../store/modelSlice';
import { useAppStore } from '../store/useAppStore';
import { LoadProgress } from './LoadProgress';
import { MemoryFitPanel } from './MemoryFitPanel';
import { useSendRequest } from './workerContext';

function choiceValue(choice: ModelChoice): string {
  switch (choice.kind) {
    case 'bundled':
      return `bundled:${choice.id}`;
    case 'hub':
      return `hub:${choice.repoId}`;
    default:
      return choice.kind;
  }
}

function parseChoice(value: string): ModelChoice {
  if (value.startsWith('bundled:')) return { kind: 'bundled', id: value.slice('bundled:'.length) };
  if (value.startsWith('hub:')) return { kind: 'hub', repoId: value.slice('hub:'.length) };
  return value === 'files' ? { kind: 'files' } : { kind: 'custom' };
}

/** Model list, repo id field, hub options and the Load button with per-file progress. */
export function ModelPicker() {
  const send = useSendRequest();
  const ids = { model: useId(), repo: useId(), files: useId(), folder: useId(), baseUrl: useId(), token: useId(), revision: useId() };
  const { bundledModels, choice, customRepoId, loadState, probe } = useAppStore(
    useShallow((state) => ({
      bundledModels: state.bundledModels,
      choice: state.choice,
      customRepoId: state.customRepoId,
      loadState: state.loadState,
      probe: state.probe,
    })),
  );
  const hubBaseUrl = useAppStore((state) => state.hubBaseUrl);
  const hubRevision = useAppStore((state) => state.hubRevision);
  const hubToken = useAppStore((state) => state.hubToken);
  const streaming = useAppStore((state) => state.activeRequestId !== null);
  const selected = choiceValue(choice);
  const description = choice.kind === 'bundled' ? bundledEntry(choice.id).description : choice.kind === 'hub' ? HUB_MODELS.find((m) => m.repoId === choice.repoId)?.description : undefined;

  const load = () => {
    const state = useAppStore.getState();
    let model;
    try {
      model = state.modelRef();
    } catch (error) {
      state.showError({ kind: 'load', message: (error as Error).message });
      return;
    }
    state.dismissError();
    state.setCacheWarning(null);
    state.startLoad();
    state.resetConversation();
    send({ type: 'load', model, contextLength: state.contextLength ?? undefined, kvDtype: state.kvDtype, fit: state.fitSettings() });
  };

  return (
    <section className="panel" aria-labelledby="model-heading">
      <h2 id="model-heading">Model</h2>
      <label htmlFor={ids.model}>Model</label>
      <select
        id={ids.model}
        data-testid="model-select"
        value={selected}
        onChange={(event) => useAppStore.getState().chooseModel(parseChoice(event.target.value))}
        disabled={loadState === 'loading'}
      >
        <optgroup label="Test models (random weights, meaningless answers)">
          {bundledModels.map((id) => (
            <option key={id} value={`bundled:${id}`}>
              {bundledEntry(id).label}
            </option>
          ))}
        </optgroup>
        <optgroup label="Hugging Face">
          {HUB_MODELS.map((model) => (
            <option key={model.repoId} value={`hub:${model.repoId}`}>
              {model.label} ({model.repoId})
            </option>
          ))}
          <option value="custom">Other repository…</option>
        </optgroup>
        <option value="files">Model folder on this computer…</option>
      </select>
      {description && <p className="hint">{description}</p>}

      {choice.kind === 'custom' && (
        <>
          <label htmlFor={ids.repo}>Repository id</label>
          <input
            id={ids.repo}
            data-testid="repo-id-input"
            type="text"
            placeholder="owner/name, e.g. Qwen/Qwen2.5-0.5B-Instruct"
            value={customRepoId}
            spellCheck={false}
            onChange={(event) => useAppStore.getState().setCustomRepoId(event.target.value)}
          />
        </>
      )}
      {choice.kind === 'files' && (
        <>
          <p className="hint">A model folder holds config.json, the .safetensors files (or model.safetensors.index.json and its shards), tokenizer.json and tokenizer_config.json. Nothing is downloaded.</p>
          <label htmlFor={ids.folder}>Open folder</label>
          <input
            id={ids.folder}
            data-testid="model-folder-input"
            type="file"
            multiple
            webkitdirectory=""
            onChange={(event) => useAppStore.getState().setLocalFiles(Array.from(event.target.files ?? []))}
          />
          <label htmlFor={ids.files}>Open files</label>
          <input
            id={ids.files}
            data-testid="model-files-input"
            type="file"
            multiple
            onChange={(event) => useAppStore.getState().setLocalFiles(Array.from(event.target.files ?? []))}
          />
        </>
      )}
      {(choice.kind === 'hub' || choice.kind === 'custom') && (
        <details className="hub-options">
          <summary>Hub options</summary>
          <label htmlFor={ids.baseUrl}>Hub base URL</label>
          <input
            id={ids.baseUrl}
            data-testid="hub-base-url"
            type="url"
            value={hubBaseUrl}
            spellCheck={false}
            onChange={(event) => useAppStore.getState().setHubBaseUrl(event.target.value)}
          />
          <label htmlFor={ids.revision}>Revision (branch, tag or commit)</label>
          <input id={ids.revision} type="text" value={hubRevision} onChange={(event) => useAppStore.getState().setHubRevision(event.target.value)} />
          <label htmlFor={ids.token}>Access token for gated models (kept in this tab only)</label>
          <input id={ids.token} type="password" autoComplete="off" value={hubToken} onChange={(event) => useAppStore.getState().setHubToken(event.target.value)} />
        </details>
      )}

      <MemoryFitPanel />
      <button
        type="button"
        className="primary"
        data-testid="load-button"
        onClick={load}
        disabled={loadState === 'loading' || streaming || probe.status !== 'ready'}
      >
        {loadState === 'loading' ? 'Loading…' : 'Load'}
      </button>
      {probe.status === 'pending' && <p className="hint">Checking WebGPU…</p>}
      {probe.status === 'ready' && <p className="hint" data-testid="adapter-name">GPU: {probe.gpu.adapterName}</p>}
      <LoadProgress />
    </section>
  );
}
