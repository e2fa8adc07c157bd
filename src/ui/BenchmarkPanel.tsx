import { useEffect, useId, useRef } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { readCapture } from '../attention/capture';
import { parseCompareResults } from '../eval/compareResults';
import { useAppStore } from '../store/useAppStore';
import { CurveChart } from './CurveChart';
import { formatCount } from './format';
import { NeedleTable } from './NeedleTable';
import { NumberField } from './NumberField';
import { useSendRequest } from './workerContext';
import './benchmark.css';

/** Saves bytes as a file through a temporary object URL. */
function downloadBytes(bytes: Uint8Array, fileName: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.click();
  // The download has started once click() returns, so the URL can go on the next turn.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

function BenchmarkProgressBar() {
  const progress = useAppStore((state) => state.benchmarkProgress);
  const task = useAppStore((state) => state.benchmarkTask);
  if (!task) return null;
  return (
    <div className="benchmark-progress" data-testid="benchmark-progress">
      <progress value={progress?.done ?? 0} max={progress?.total || 1} />
      <span className="hint">
        {progress ? `${progress.done} / ${progress.total}: ${progress.label}` : `Waiting for the ${task.kind} request to start…`}
      </span>
    </div>
  );
}

function NeedleSection({ busy }: { busy: boolean }) {
  const send = useSendRequest();
  const ids = { lengths: useId(), depths: useId() };
  const settings = useAppStore(
    useShallow((state) => ({
      lengths: state.needleLengthsText,
      depths: state.needleDepthsText,
      seed: state.needleSeed,
      maxNewTokens: state.needleMaxNewTokens,
      status: state.needleStatus,
      task: state.benchmarkTask,
      loaded: state.loadState === 'loaded',
      anchorParams: state.anchorParams,
    })),
  );
  const store = useAppStore.getState;
  const running = settings.task?.kind === 'needle';
  const G = settings.anchorParams.blockSize * settings.anchorParams.step;
  let statusText = '';
  if (settings.status === 'stopped') statusText = 'Stopped; the finished cases stay below.';
  if (settings.status === 'failed') statusText = 'The run failed; see the error above.';

  return (
    <section className="benchmark-section" aria-label="Needle in a haystack">
      <h3>Needle in a haystack</h3>
      <p className="hint">
        Each case hides a 7-digit number in filler text and asks for it, answered greedily with dense prefill and with AnchorAttention (current parameters, G ={' '}
        {formatCount(G)}). Prompts shorter than 2G run mostly as the dense tail, so their speedup stays near 1.
      </p>
      <div className="benchmark-fields">
        <div className="field">
          <label htmlFor={ids.lengths}>Prompt lengths (tokens)</label>
          <input id={ids.lengths} data-testid="needle-lengths" value={settings.lengths} onChange={(event) => store().setNeedleLengthsText(event.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={ids.depths}>Needle depths (0 to 1)</label>
          <input id={ids.depths} data-testid="needle-depths" value={settings.depths} onChange={(event) => store().setNeedleDepthsText(event.target.value)} />
        </div>
        <NumberField label="Seed" value={settings.seed} integer onChange={(value) => store().setNeedleSeed(value)} testId="needle-seed" />
        <NumberField label="New tokens per answer" value={settings.maxNewTokens} integer min={1} max={256} onChange={(value) => store().setNeedleMaxNewTokens(value)} testId="needle-max-new-tokens" />
      </div>
      <div className="benchmark-actions">
        <button
          type="button"
          data-testid="needle-run"
          disabled={!settings.loaded || busy}
          onClick={() => {
            const request = store().startNeedleRun();
            if (request) send(request);
          }}
        >
          Run needle cases
        </button>
        {running && (
          <button type="button" data-testid="benchmark-stop" onClick={() => send({ type: 'stopBenchmark' })}>
            Stop
          </button>
        )}
        <span className="hint" data-testid="needle-status" data-status={settings.status}>
          {statusText}
        </span>
      </div>
      <NeedleTable />
    </section>
  );
}

function CaptureSection({ busy }: { busy: boolean }) {
  const send = useSendRequest();
  const ids = { layers: useId(), dtype: useId() };
  const { maxTokens, layersText, dtype, loaded, lastCapture, layerCount } = useAppStore(
    useShallow((state) => ({
      maxTokens: state.captureMaxTokens,
      layersText: state.captureLayersText,
      dtype: state.captureDtype,
      loaded: state.loadState === 'loaded',
      lastCapture: state.lastCapture,
      layerCount: state.loadedModel?.layers ?? 0,
    })),
  );
  const store = useAppStore.getState;
  const savedCapture = useRef(lastCapture);

  // A new capture is saved once, when it arrives; "Save again" repeats it on request.
  useEffect(() => {
    if (lastCapture && lastCapture !== savedCapture.current) downloadBytes(lastCapture.bytes, lastCapture.fileName);
    savedCapture.current = lastCapture;
  }, [lastCapture]);

  return (
    <section className="benchmark-section" aria-label="Q/K/V capture">
      <h3>Q/K/V capture</h3>
      <p className="hint">
        Prefills the document (without the chat template) densely and saves each chosen layer&apos;s post-RoPE q, k and v as a capture file for bench/compare.ts
        --capture or the curves below. The model has layers 0 to {Math.max(0, layerCount - 1)}.
      </p>
      <div className="benchmark-fields">
        <NumberField label="Max tokens" value={maxTokens} integer min={1} onChange={(value) => store().setCaptureMaxTokens(value)} testId="capture-max-tokens" />
        <div className="field">
          <label htmlFor={ids.layers}>Layers</label>
          <input id={ids.layers} data-testid="capture-layers" value={layersText} onChange={(event) => store().setCaptureLayersText(event.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={ids.dtype}>Element type</label>
          <select id={ids.dtype} data-testid="capture-dtype" value={dtype} onChange={(event) => store().setCaptureDtype(event.target.value as 'f32' | 'f16')}>
            <option value="f32">f32</option>
            <option value="f16">f16 (half the size)</option>
          </select>
        </div>
      </div>
      <div className="benchmark-actions">
        <button
          type="button"
          data-testid="capture-export"
          disabled={!loaded || busy}
          onClick={() => {
            const request = store().startCapture(store().document);
            if (request) send(request);
          }}
        >
          Export Q/K/V capture
        </button>
        {lastCapture && (
          <>
            <span className="hint" data-testid="capture-summary">
              {lastCapture.fileName}: {formatCount(lastCapture.numTokens)} tokens, layers {lastCapture.layers.join(', ')}, {formatCount(lastCapture.bytes.byteLength)} bytes
            </span>
            <button type="button" onClick={() => downloadBytes(lastCapture.bytes, lastCapture.fileName)}>
              Save again
            </button>
          </>
        )}
      </div>
    </section>
  );
}

function CurvesSection({ busy }: { busy: boolean }) {
  const send = useSendRequest();
  const ids = { results: useId(), capture: useId(), input: useId() };
  const { curves, curveInput, opened, layer, head, maxTokens } = useAppStore(
    useShallow((state) => ({
      curves: state.curves,
      curveInput: state.curveInput,
      opened: state.openedCapture,
      layer: state.curveLayer,
      head: state.curveHead,
      maxTokens: state.curveMaxTokens,
    })),
  );
  const store = useAppStore.getState;
  const shown = curves?.inputs[Math.min(curveInput, curves.inputs.length - 1)];

  const openResults = async (file: File) => {
    try {
      store().showCurves(parseCompareResults(JSON.parse(await file.text())));
    } catch (error) {
      store().setBenchmarkInputError(`${file.name} could not be read: ${(error as Error).message}`);
    }
  };
  const openCapture = async (file: File) => {
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const { header } = readCapture(bytes);
      store().openCaptureForCurves({ fileName: file.name, bytes, layers: header.layers, numHeads: header.numHeads, numTokens: header.numTokens });
    } catch (error) {
      store().setBenchmarkInputError(`${file.name} could not be read: ${(error as Error).message}`);
    }
  };

  return (
    <section className="benchmark-section" aria-label="Recall against density">
      <h3>Recall against density</h3>
      <p className="hint">Open a results file written by bench/compare.ts, or a capture file to sweep every method over one head in the worker. Files stay on this page.</p>
      <div className="benchmark-fields">
        <div className="field">
          <label htmlFor={ids.results}>Results JSON</label>
          <input id={ids.results} type="file" accept=".json,application/json" data-testid="curves-results-file" onChange={(event) => event.target.files?.[0] && void openResults(event.target.files[0])} />
        </div>
        <div className="field">
          <label htmlFor={ids.capture}>Capture file</label>
          <input id={ids.capture} type="file" data-testid="curves-capture-file" onChange={(event) => event.target.files?.[0] && void openCapture(event.target.files[0])} />
        </div>
      </div>
      {opened && (
        <div className="benchmark-fields" data-testid="curves-capture-options">
          <div className="field">
            <label htmlFor={ids.input}>Layer</label>
            <select id={ids.input} data-testid="curves-layer" value={layer} onChange={(event) => store().setCurveLayer(Number(event.target.value))}>
              {opened.layers.map((index) => (
                <option key={index} value={index}>
                  {index}
                </option>
              ))}
            </select>
          </div>
          <NumberField label={`Query head (0 to ${opened.numHeads - 1})`} value={head} integer min={0} max={opened.numHeads - 1} onChange={(value) => store().setCurveHead(value)} testId="curves-head" />
          <NumberField label="Max tokens" value={maxTokens} integer min={2} max={opened.numTokens} onChange={(value) => store().setCurveMaxTokens(value)} testId="curves-max-tokens" />
          <div className="benchmark-actions">
            <button
              type="button"
              data-testid="curves-compute"
              disabled={busy}
              onClick={() => {
                const request = store().startCurves();
                if (request) send(request);
              }}
            >
              Compute curves
            </button>
          </div>
        </div>
      )}
      {curves && shown && (
        <div className="curves" data-testid="curves">
          <p className="hint" data-testid="curves-title">
            {curves.title}
            {curves.inputs.length > 1 ? '' : `: ${shown.name}`}
          </p>
          {curves.inputs.length > 1 && (
            <select aria-label="Input" data-testid="curves-input" value={curveInput} onChange={(event) => store().setCurveInput(Number(event.target.value))}>
              {curves.inputs.map((input, index) => (
                <option key={input.name} value={index}>
                  {input.name} (N = {formatCount(input.N)})
                </option>
              ))}
            </select>
          )}
          <CurveChart curves={shown} />
          <p className="hint">{shown.description}</p>
        </div>
      )}
    </section>
  );
}

/** The benchmark panel: needle runs, Q/K/V capture export, and recall-versus-density curves. */
export function BenchmarkPanel() {
  const { busy, isTestModel, inputError, loaded } = useAppStore(
    useShallow((state) => ({
      busy: state.benchmarkTask !== null || state.activeRequestId !== null,
      isTestModel: state.loadedModel !== null && state.bundledModels.includes(state.loadedModel.name),
      inputError: state.benchmarkInputError,
      loaded: state.loadedModel?.name ?? null,
    })),
  );

  return (
    <details className="panel benchmark" data-testid="benchmark-panel">
      <summary>Benchmark</summary>
      {!loaded && <p className="hint">Load a model to run needle cases or export a capture; curves from files need no model.</p>}
      {isTestModel && (
        <p className="benchmark-note" data-testid="benchmark-test-model-note">
          {loaded} has random weights, so it cannot find the needle: expect a score of 0 for both methods. The run still exercises both prefill paths and times them.
        </p>
      )}
      {inputError && (
        <p className="benchmark-note" role="alert" data-testid="benchmark-input-error">
          {inputError}
        </p>
      )}
      <BenchmarkProgressBar />
      <NeedleSection busy={busy} />
      <CaptureSection busy={busy} />
      <CurvesSection busy={busy} />
    </details>
  );
}
