import { useId } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { groupSize } from '../attention/types';
import type { AnchorPreset } from '../store/settingsSlice';
import { useAppStore } from '../store/useAppStore';
import { NumberField } from './NumberField';
import { PrefillStatsOptions } from './prefillStats/PrefillStatsOptions';

/** The dense / AnchorAttention toggle and the AnchorAttention parameters for prefill. */
export function AttentionSettings() {
  const presetId = useId();
  const { attentionKind, anchorParams, anchorPreset } = useAppStore(
    useShallow((state) => ({ attentionKind: state.attentionKind, anchorParams: state.anchorParams, anchorPreset: state.anchorPreset })),
  );
  const store = useAppStore.getState;
  const anchor = attentionKind === 'anchor';

  return (
    <section className="panel" aria-labelledby="attention-heading">
      <h2 id="attention-heading">Prefill attention</h2>
      <div className="segmented" role="radiogroup" aria-label="Prefill attention">
        {(['dense', 'anchor'] as const).map((kind) => (
          <label key={kind} className={attentionKind === kind ? 'selected' : undefined}>
            <input
              type="radio"
              name="attention-kind"
              value={kind}
              data-testid={`attention-${kind}`}
              checked={attentionKind === kind}
              onChange={() => store().setAttentionKind(kind)}
            />
            {kind === 'dense' ? 'Dense' : 'Sparse (AnchorAttention)'}
          </label>
        ))}
      </div>
      <p className="hint">Decode always runs dense attention; this choice applies to the prompt's prefill.</p>

      <fieldset disabled={!anchor} className="anchor-params" data-testid="anchor-params">
        <legend>AnchorAttention parameters</legend>
        <label htmlFor={presetId}>Preset</label>
        <select
          id={presetId}
          data-testid="anchor-preset"
          value={anchorPreset}
          onChange={(event) => {
            const preset = event.target.value as AnchorPreset;
            if (preset !== 'custom') store().applyAnchorPreset(preset);
          }}
        >
          <option value="default">Default (b 128, s 16, G 2048)</option>
          <option value="short-context">Short context (b 64, s 8, G 512)</option>
          <option value="custom" disabled>
            Custom
          </option>
        </select>
        <div className="grid-2">
          <NumberField label="Block size b" integer min={1} value={anchorParams.blockSize} onChange={(value) => store().setAnchorParam('blockSize', value)} testId="anchor-block-size" />
          <NumberField label="Step s" integer min={1} value={anchorParams.step} onChange={(value) => store().setAnchorParam('step', value)} testId="anchor-step" />
          <NumberField label="Threshold θ (nats)" min={0} step={0.5} value={anchorParams.theta} onChange={(value) => store().setAnchorParam('theta', value)} testId="anchor-theta" />
          <NumberField label="Init groups" integer min={0} value={anchorParams.initGroups} onChange={(value) => store().setAnchorParam('initGroups', value)} testId="anchor-init-groups" />
          <NumberField label="Local groups" integer min={1} value={anchorParams.localGroups} onChange={(value) => store().setAnchorParam('localGroups', value)} testId="anchor-local-groups" />
        </div>
        <label className="checkbox">
          <input
            type="checkbox"
            data-testid="anchor-dense-last-group"
            checked={anchorParams.denseLastGroup}
            onChange={(event) => store().setAnchorParam('denseLastGroup', event.target.checked)}
          />
          Dense last group
        </label>
        <p className="hint">
          Group size G = b × s = {groupSize(anchorParams).toLocaleString('en-US')} rows. Keys within θ of a sub-block's anchor are kept for the whole group.
        </p>
      </fieldset>

      <PrefillStatsOptions />
    </section>
  );
}
