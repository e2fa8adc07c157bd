// Bias add in place: x[t, c] += bias[c].
// Dispatch: one invocation per element of x, workgroups folded into 2D by workgroupGrid.
override WORKGROUP_SIZE: u32;

struct Params {
  elements: u32, // T * n
  n: u32,
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;  // [T, n] f32
@group(0) @binding(1) var<storage, read> bias: array<u32>;     // [n] weight dtype
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn bias_add(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let index = linear_workgroup(wid, nwg) * WORKGROUP_SIZE + lid;
  if (index >= params.elements) { return; }
  let c = index % params.n;
  x[index] += weight_at(bias[c / WEIGHT_ELEMENTS_PER_WORD], c);
}
