import { useShallow } from 'zustand/react/shallow';
import { useAppStore } from '../../store/useAppStore';

/** Switches of the per-head statistics that AnchorAttention prefills collect. */
export function PrefillStatsOptions() {
  const { options, anchor } = useAppStore(useShallow((state) => ({ options: state.prefillStatsOptions, anchor: state.attentionKind === 'anchor' })));
  const store = useAppStore.getState;
  return (
    <fieldset className="prefill-stats-options" disabled={!anchor} data-testid="prefill-stats-options">
      <legend>Per-head statistics</legend>
      <label className="checkbox">
        <input type="checkbox" data-testid="stats-collect" checked={options.collect} onChange={(event) => store().setPrefillStatsOption('collect', event.target.checked)} />
        Collect stripe counts and density
      </label>
      <label className="checkbox">
        <input
          type="checkbox"
          data-testid="stats-detailed"
          checked={options.detailed}
          disabled={!options.collect}
          onChange={(event) => store().setPrefillStatsOption('detailed', event.target.checked)}
        />
        Detailed statistics: recall, error and per-head times (runs dense attention per head too, several times slower)
      </label>
      <label className="checkbox">
        <input type="checkbox" data-testid="stats-compare-dense" checked={options.compareWithDense} onChange={(event) => store().setPrefillStatsOption('compareWithDense', event.target.checked)} />
        Compare with dense: prefill the prompt densely afterwards and time it
      </label>
    </fieldset>
  );
}
