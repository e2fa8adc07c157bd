// AnchorAttention step 2a: for each sub-block p of b rows of the group, the mean query q̄_p and the
// mean anchor ā_p (the mean of the rows' running maxima m from step 1).
// q: [G, H, D] f32; stats: [Hc, G] (m, l) f32; q_mean: [Hc, s, D] f32; anchor_mean: [Hc, s] f32, for the
// Hc heads from head_start. Grid: (s, Hc), WORKGROUP_SIZE threads over the head dimension.

struct Params {
  block_size: u32,   // b
  step: u32,         // s
  num_heads: u32,
  head_dim: u32,
  head_start: u32,   // first query head of the dispatch; the other arrays are indexed from it
}

override WORKGROUP_SIZE: u32;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;                     // [G, H, D] f32
@group(0) @binding(2) var<storage, read> stats: array<vec2<f32>>;           // [Hc, G] (m, l) f32
@group(0) @binding(3) var<storage, read_write> q_mean: array<f32>;          // [Hc, s, D] f32
@group(0) @binding(4) var<storage, read_write> anchor_mean: array<f32>;     // [Hc, s] f32

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) local_index: u32) {
  let p = wid.x;
  let local_head = wid.y;
  let head = params.head_start + local_head;
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
    q_mean[(local_head * params.step + p) * params.head_dim + d] = sum * inverse_b;
  }
  if (local_index == 0u) {
    var sum = 0.0;
    for (var r = first_row; r < first_row + params.block_size; r++) {
      sum += stats[local_head * group_rows + r].x;
    }
    anchor_mean[local_head * params.step + p] = sum * inverse_b;
  }
}
