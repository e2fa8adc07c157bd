import { useEffect } from 'react';
import { parseBundledIndex } from '../engine/models';
import { useAppStore } from '../store/useAppStore';
import { useInferenceWorker } from '../store/useInferenceWorker';
import { AttentionSettings } from './AttentionSettings';
import { ChatPanel } from './ChatPanel';
import { DocumentPanel } from './DocumentPanel';
import { ErrorBanner } from './ErrorBanner';
import { GenerationSettings } from './GenerationSettings';
import { ModelPicker } from './ModelPicker';
import { StatsPanel } from './StatsPanel';
import { BenchmarkPanel } from './BenchmarkPanel';
import { PrefillStatsPanel } from './prefillStats/PrefillStatsPanel';
import { StoragePanel } from './StoragePanel';
import { UnsupportedScreen } from './UnsupportedScreen';
import { useTokenCount } from './useTokenCount';
import { WorkerContext } from './workerContext';
import './styles.css';

/** Reads the bundled test models' names; the fallback list stays when the index is missing. */
function useBundledModels(): void {
  useEffect(() => {
    const controller = new AbortController();
    fetch(`${import.meta.env.BASE_URL}models/index.json`, { signal: controller.signal })
      .then((response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return response.json();
      })
      .then((json: unknown) => useAppStore.getState().setBundledModels(parseBundledIndex(json)))
      .catch((error: unknown) => {
        if (!controller.signal.aborted) console.warn(`Could not read models/index.json, so the built-in test model names are listed: ${(error as Error).message}`);
      });
    return () => controller.abort();
  }, []);
}

export function App() {
  const send = useInferenceWorker();
  useTokenCount(send);
  useBundledModels();
  const probe = useAppStore((state) => state.probe);

  if (probe.status === 'failed') return <UnsupportedScreen kind={probe.kind} message={probe.message} />;

  return (
    <WorkerContext.Provider value={send}>
      <header className="app-header">
        <h1>Anchor Chat</h1>
        <p>Long-document questions answered by a small LLM on your GPU, with AnchorAttention sparse prefill. Nothing leaves this page.</p>
      </header>
      <ErrorBanner />
      <div className="layout">
        <aside className="sidebar">
          <ModelPicker />
          <AttentionSettings />
          <GenerationSettings />
          <StoragePanel />
        </aside>
        <main className="main">
          <DocumentPanel />
          <ChatPanel />
          <StatsPanel />
          <PrefillStatsPanel />
          <BenchmarkPanel />
        </main>
      </div>
    </WorkerContext.Provider>
  );
}
