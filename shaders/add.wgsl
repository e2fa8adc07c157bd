// Residual add: out = a + b (entry point add) or a += b (entry point add_in_place).
// Dispatch: one invocation per element, workgroups folded into 2D by workgroupGrid.
override WORKGROUP_SIZE: u32;

struct Params {
  elements: u32,
}

@group(0) @binding(0) var<storage, read_write> a: array<f32>;   // [elements] f32; read_write for add_in_place
@group(0) @binding(1) var<storage, read> b: array<f32>;         // [elements] f32
@group(0) @binding(2) var<uniform> params: Params;
@group(0) @binding(3) var<storage, read_write> out: array<f32>; // [elements] f32; add only

@compute @workgroup_size(WORKGROUP_SIZE)
fn add(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let index = linear_workgroup(wid, nwg) * WORKGROUP_SIZE + lid;
  if (index >= params.elements) { return; }
  out[index] = a[index] + b[index];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn add_in_place(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let index = linear_workgroup(wid, nwg) * WORKGROUP_SIZE + lid;
  if (index >= params.elements) { return; }
  a[index] += b[index];
}
