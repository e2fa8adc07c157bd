import type { NeedleMethodResult } from '../engine/needleRunner';
import { useAppStore } from '../store/useAppStore';
import { formatCount, formatMs } from './format';

function MethodCells({ run, testId }: { run: NeedleMethodResult; testId: string }) {
  return (
    <>
      <td data-testid={`${testId}-score`} data-value={run.score} title={`Answer: ${JSON.stringify(run.answer)}`}>
        {run.score}
      </td>
      <td data-testid={`${testId}-time`} data-value={run.prefillMs}>
        {formatMs(run.prefillMs)}
      </td>
    </>
  );
}

/** Lists the needle cases finished so far: length, depth, each method's score and prefill time, and the speedup. */
export function NeedleTable() {
  const results = useAppStore((state) => state.needleResults);
  if (results.length === 0) return null;
  return (
    <table className="needle-table" data-testid="needle-table">
      <thead>
        <tr>
          <th scope="col">Length</th>
          <th scope="col">Depth</th>
          <th scope="col">Dense score</th>
          <th scope="col">Dense prefill</th>
          <th scope="col">Sparse score</th>
          <th scope="col">Sparse prefill</th>
          <th scope="col">Prefill speedup</th>
        </tr>
      </thead>
      <tbody>
        {results.map((result) => (
          <tr key={result.index} data-testid="needle-row" data-expected={result.expected}>
            <td title={`Requested ${formatCount(result.targetTokens)} tokens`}>{formatCount(result.promptTokens)}</td>
            <td title={`Requested depth ${result.depth}`}>{result.actualDepth.toFixed(2)}</td>
            <MethodCells run={result.dense} testId="needle-dense" />
            <MethodCells run={result.sparse} testId="needle-sparse" />
            <td data-testid="needle-speedup" data-value={result.speedup}>
              {Number.isFinite(result.speedup) ? `${result.speedup.toFixed(2)}×` : '-'}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
