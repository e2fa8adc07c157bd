// AnchorAttention step 2a: for each sub-block p of b rows of the group, the mean query q̄_p and the
// mean anchor ā_p (the mean of the rows' running maxima m from step 1).
// q: [G, H, D] f32; stats: [H, G] (m, l) f32; q_mean: [H, s, D] f32; anchor_mean: [H, s] f32.
// Grid: (s, H), WORKGROUP_SIZE threads over the head dimension.

struct Params {
  block_size: u32,   // b
  step: u32,         // s
  num_heads: u32,
  head_dim: u32,
}

override WORKGROUP_SIZE: u32;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;                     // [G, H, D] f32
@group(0) @binding(2) var<storage, read> stats: array<vec2<f32>>;           // [H, G] (m, l) f32
@group(0) @binding(3) var<storage, read_write> q_mean: array<f32>;          // [H, s, D] f32
@group(0) @binding(4) var<storage, read_write> anchor_mean: array<f32>;     // [H, s] f32

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) local_index: u32) {
  let p = wid.x;
  let head = wid.y;
  if (p >= params.step || head >= params.num_heads) {
    return;
  }
  let group_rows = params.block_size * params.step;
  let first_row = p * params.block_size;
  let inverse_b = 1.0 / f32(params.block_size);
  for (var d = local_index; d < params.head_dim; d += WORKGROUP_SIZE) {
    var sum = 0.0;
    for (var r = first_row; r < first_row + params.block_size; r++) {
      sum += q[(r * params.num_heads + head) * params.head_dim + d];
    }
    q_mean[(head * params.step + p) * params.head_dim + d] = sum * inverse_b;
  }
  if (local_index == 0u) {
    var sum = 0.0;
    for (var r = first_row; r < first_row + params.block_size; r++) {
      sum += stats[head * group_rows + r].x;
    }
    anchor_mean[head * params.step + p] = sum * inverse_b;
  }
}
