import { useShallow } from 'zustand/react/shallow';
import type { MemoryFitReport } from '../engine/memoryFit';
import { useAppStore } from '../store/useAppStore';
import { formatBytes, formatCount } from './format';
import { NumberField } from './NumberField';
import { useSendRequest } from './workerContext';

const GiB = 2 ** 30;

/** Renders one row of the needed-versus-available table. */
function Row({ part, needed, available, testId }: { part: string; needed: number; available?: number; testId: string }) {
  const over = available !== undefined && needed > available;
  return (
    <tr data-testid={testId} data-needed={needed} className={over ? 'over' : undefined}>
      <th scope="row">{part}</th>
      <td>{formatBytes(needed)}</td>
      <td>{available !== undefined ? formatBytes(available) : ''}</td>
    </tr>
  );
}

function FitReport({ report }: { report: MemoryFitReport }) {
  const { estimate, limits, budgetBytes } = report;
  const bufferLimit = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
  const fits = report.problems.length === 0;
  const useLength = report.maxFittingContextLength;

  return (
    <div className="fit-report" data-testid="fit-report" data-fits={fits}>
      <p data-testid="fit-verdict">
        {fits
          ? `${report.modelName} fits at ${formatCount(report.contextLength)} tokens of context (estimate).`
          : `${report.modelName} does not fit at ${formatCount(report.contextLength)} tokens of context (estimate): ${report.problems.join('; ')}.`}
      </p>
      <table>
        <thead>
          <tr>
            <th scope="col">Part</th>
            <th scope="col">Needed</th>
            <th scope="col">Available</th>
          </tr>
        </thead>
        <tbody>
          <Row part={`Weights (${report.weights.weightDtype}, from ${report.weights.method})`} needed={estimate.weights} testId="fit-weights" />
          <Row part={`KV cache (${report.kvDtype}, ${formatCount(report.contextLength)} tokens)`} needed={estimate.kvCache} testId="fit-kv-cache" />
          <Row part={`Activations (${formatCount(estimate.breakdown.workspaceRows)}-row prefill chunk)`} needed={estimate.activations} testId="fit-activations" />
          <Row part="Total against the budget" needed={estimate.total} available={budgetBytes} testId="fit-total" />
          <Row part={`Largest buffer: ${estimate.breakdown.largestBuffer.label}`} needed={estimate.breakdown.largestBuffer.bytes} available={bufferLimit} testId="fit-largest-buffer" />
        </tbody>
      </table>
      {!fits && useLength !== null && !report.contextPinned && (
        <p className="hint" data-testid="fit-suggestion">
          Loading will use {formatCount(useLength)} tokens of context, the longest that fits.
        </p>
      )}
      {!fits && useLength !== null && report.contextPinned && (
        <button type="button" data-testid="fit-use-length" onClick={() => useAppStore.getState().setContextLength(useLength)}>
          Use {formatCount(useLength)} tokens of context
        </button>
      )}
      {!fits && useLength === null && <p className="hint">No context length fits this budget; raise it if the GPU has more memory, or choose a smaller model.</p>}
    </div>
  );
}

/** Memory budget, the "Check memory" button and the estimate of the chosen model against the budget and the adapter's limits. */
export function MemoryFitPanel() {
  const send = useSendRequest();
  const { memoryBudgetBytes, fitReport, fitError, fitPending, loadState, probeReady } = useAppStore(
    useShallow((state) => ({
      memoryBudgetBytes: state.memoryBudgetBytes,
      fitReport: state.fitReport,
      fitError: state.fitError,
      fitPending: state.fitRequestId !== null,
      loadState: state.loadState,
      probeReady: state.probe.status === 'ready',
    })),
  );

  const check = () => {
    const state = useAppStore.getState();
    let model;
    try {
      model = state.modelRef();
    } catch (error) {
      state.showError({ kind: 'load', message: (error as Error).message });
      return;
    }
    const requestId = state.startFitCheck();
    send({ type: 'checkFit', requestId, model, contextLength: state.contextLength ?? undefined, kvDtype: state.kvDtype, fit: state.fitSettings() });
  };

  return (
    <div className="memory-fit" data-testid="memory-fit">
      <NumberField
        label="GPU memory budget (GiB)"
        value={memoryBudgetBytes / GiB}
        min={0.25}
        step={0.25}
        testId="memory-budget"
        hint="Browsers do not report free GPU memory, so the check compares an estimate with this budget."
        onChange={(value) => useAppStore.getState().setMemoryBudgetBytes(Math.round(value * GiB))}
      />
      <button type="button" data-testid="check-fit-button" onClick={check} disabled={fitPending || loadState === 'loading' || !probeReady}>
        {fitPending ? 'Checking…' : 'Check memory'}
      </button>
      {fitError && (
        <p className="error-text" role="alert" data-testid="fit-error">
          {fitError}
        </p>
      )}
      {fitReport && <FitReport report={fitReport} />}
    </div>
  );
}
