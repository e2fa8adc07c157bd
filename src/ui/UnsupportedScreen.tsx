export interface UnsupportedScreenProps {
  kind: 'webgpu-unavailable' | 'limit';
  message: string;
}

/** The full-page explanation shown when WebGPU or a limit the kernels need is missing. */
export function UnsupportedScreen({ kind, message }: UnsupportedScreenProps) {
  return (
    <main className="unsupported" data-testid="unsupported-screen" role="alert">
      <h1>{kind === 'limit' ? 'This GPU lacks a capability the app needs' : 'WebGPU is not available'}</h1>
      <p>{message}</p>
      <h2>What you can do</h2>
      <ul>
        <li>Use a recent Chrome or Edge (113 or later) on a desktop or laptop; Firefox and Safari support WebGPU only in recent versions.</li>
        <li>Turn on hardware acceleration in the browser settings and update the graphics driver.</li>
        <li>Open the page over HTTPS or from localhost, because WebGPU requires a secure context.</li>
        <li>On Linux Chrome, WebGPU may still need chrome://flags/#enable-unsafe-webgpu.</li>
      </ul>
    </main>
  );
}
