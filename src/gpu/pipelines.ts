/** Compiled compute pipelines keyed by shader source, entry point and override constants. */
export class PipelineCache {
  /** Pipelines by shader source, then by entry point and constants; the source is not copied into a key. */
  private readonly pipelines = new Map<string, Map<string, GPUComputePipeline>>();
  private readonly modules = new Map<string, GPUShaderModule>();
  private count = 0;

  constructor(readonly device: GPUDevice) {}

  get size(): number {
    return this.count;
  }

  /**
   * Returns the pipeline for `code` at `entryPoint` with `constants` bound to the
   * shader's `override` declarations, compiling it on first use. `label` names the
   * kernel in WebGPU error messages.
   */
  get(label: string, code: string, entryPoint = 'main', constants: Record<string, number> = {}): GPUComputePipeline {
    let variants = this.pipelines.get(code);
    if (!variants) {
      variants = new Map();
      this.pipelines.set(code, variants);
    }
    const key = `${entryPoint}|${JSON.stringify(constants)}`;
    let pipeline = variants.get(key);
    if (!pipeline) {
      pipeline = this.device.createComputePipeline({
        label,
        layout: 'auto',
        compute: { module: this.module(label, code), entryPoint, constants },
      });
      variants.set(key, pipeline);
      this.count++;
    }
    return pipeline;
  }

  private module(label: string, code: string): GPUShaderModule {
    let module = this.modules.get(code);
    if (!module) {
      module = this.device.createShaderModule({ label, code });
      this.modules.set(code, module);
    }
    return module;
  }
}
