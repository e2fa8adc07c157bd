// Installs Dawn's WebGPU globals (GPUBufferUsage, GPUMapMode, ...) before any test module loads.
import { globals } from 'webgpu';

Object.assign(globalThis, globals);
