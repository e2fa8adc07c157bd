// Per-head squared-error sums of an attention output against a reference output: for head h,
// Σ (got − ref)² and Σ ref² over the first `rows` rows, for a relative L2 error.
// got, ref: [T, H, D] f32; sums: [H] (diff², ref²) f32. Grid: (H), WORKGROUP_SIZE threads strided over rows × D.

struct Params {
  rows: u32,
  num_heads: u32,
  head_dim: u32,
}

override WORKGROUP_SIZE: u32;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> got: array<f32>;                  // [T, H, D] f32
@group(0) @binding(2) var<storage, read> ref_out: array<f32>;              // [T, H, D] f32
@group(0) @binding(3) var<storage, read_write> sums: array<vec2<f32>>;     // [H] (diff², ref²) f32

var<workgroup> partial: array<vec2<f32>, WORKGROUP_SIZE>;   // [WORKGROUP_SIZE] per-thread sums

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) local_index: u32) {
  let head = wid.x;
  if (head >= params.num_heads) {
    return;
  }
  var sum = vec2<f32>(0.0);
  let count = params.rows * params.head_dim;
  for (var i = local_index; i < count; i += WORKGROUP_SIZE) {
    let row = i / params.head_dim;
    let d = i - row * params.head_dim;
    let index = (row * params.num_heads + head) * params.head_dim + d;
    let diff = got[index] - ref_out[index];
    sum += vec2<f32>(diff * diff, ref_out[index] * ref_out[index]);
  }
  partial[local_index] = sum;
  workgroupBarrier();
  // Tree reduction; WORKGROUP_SIZE is a power of two, and a barrier follows every step.
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
    if (local_index < stride) {
      partial[local_index] += partial[local_index + stride];
    }
    workgroupBarrier();
  }
  if (local_index == 0u) {
    sums[head] = partial[0];
  }
}
