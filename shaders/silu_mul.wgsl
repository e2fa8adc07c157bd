// SwiGLU gate: out = silu(gate) * up, with silu(g) = g / (1 + exp(-g)).
// Dispatch: one invocation per element, workgroups folded into 2D by workgroupGrid.
override WORKGROUP_SIZE: u32;

struct Params {
  elements: u32, // T * I
}

@group(0) @binding(0) var<storage, read> gate: array<f32>;      // [T, I] f32
@group(0) @binding(1) var<storage, read> up: array<f32>;        // [T, I] f32
@group(0) @binding(2) var<storage, read_write> out: array<f32>; // [T, I] f32
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn silu_mul(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let index = linear_workgroup(wid, nwg) * WORKGROUP_SIZE + lid;
  if (index >= params.elements) { return; }
  let g = gate[index];
  // For g below about -88, exp(-g) overflows to +inf and the quotient is -0, the limit of silu.
  out[index] = g / (1.0 + exp(-g)) * up[index];
}
