// Attention-mass recall of sampled rows of one AnchorAttention group: for row r and head h, the share of the
// full causal softmax of s(r, ·) over keys 0 ..= r that falls on the keys the group computed (anchor region
// [0, init_count) ∪ [local_start, r], plus the head's stripes). q_rows: [R, H, D] f32; positions: [R] u32;
// k_cache: [Hkv, capacity, D]; indices: [H, C] u32; counts: [H] u32; recall: [R, H] f32. Grid: (R, H).

struct Params {
  row_count: u32,        // R, sampled rows of the group
  num_heads: u32,        // H
  heads_per_kv: u32,     // H / Hkv
  capacity: u32,
  max_candidates: u32,   // C, the row length of indices
  scale: f32,            // 1 / sqrt(D)
  init_count: u32,       // min(initGroups * G, local_start)
  local_start: u32,      // max(0, (g - localGroups + 1) * G)
}

override WORKGROUP_SIZE: u32;
override HEAD_DIM: u32;

// Below every real score; finite because WGSL drivers may assume no infinities.
const MASKED_MAX: f32 = -3.0e38;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> q_rows: array<f32>;               // [R, H, D] f32
@group(0) @binding(2) var<storage, read> positions: array<u32>;            // [R] u32
@group(0) @binding(3) var<storage, read> k_cache: array<KvWord>;           // [Hkv, capacity, D] f32 or f16 pairs
@group(0) @binding(4) var<storage, read> indices: array<u32>;              // [H, C] u32
@group(0) @binding(5) var<storage, read> counts: array<u32>;               // [H] u32
@group(0) @binding(6) var<storage, read_write> recall: array<f32>;         // [R, H] f32

var<workgroup> q_scaled: array<vec2<f32>, HEAD_DIM / 2>;   // [D / 2] the row's query pairs times scale
var<workgroup> reduce_a: array<f32, WORKGROUP_SIZE>;       // [WORKGROUP_SIZE] partial max, then total mass
var<workgroup> reduce_b: array<f32, WORKGROUP_SIZE>;       // [WORKGROUP_SIZE] partial computed mass

fn score(kv_base: u32, key: u32) -> f32 {
  let half_dim = HEAD_DIM / 2u;
  let k_row = (kv_base + key) * half_dim;
  var dot_qk = 0.0;
  for (var c = 0u; c < half_dim; c++) {
    dot_qk += dot(q_scaled[c], load_k_pair(k_row + c));
  }
  return dot_qk;
}

// Tree reduction of reduce_a (max when take_max, else sum) and reduce_b (sum); a barrier after every step.
fn reduce_workgroup(local_index: u32, take_max: bool) {
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
    if (local_index < stride) {
      let other = reduce_a[local_index + stride];
      reduce_a[local_index] = select(reduce_a[local_index] + other, max(reduce_a[local_index], other), take_max);
      reduce_b[local_index] += reduce_b[local_index + stride];
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) local_index: u32) {
  let sample = wid.x;
  let head = wid.y;
  // Whole-workgroup exit only: the reductions below have barriers.
  if (sample >= params.row_count || head >= params.num_heads) {
    return;
  }
  let half_dim = HEAD_DIM / 2u;
  let q_row = (sample * params.num_heads + head) * HEAD_DIM;
  for (var c = local_index; c < half_dim; c += WORKGROUP_SIZE) {
    q_scaled[c] = vec2<f32>(q_rows[q_row + 2u * c], q_rows[q_row + 2u * c + 1u]) * params.scale;
  }
  workgroupBarrier();
  let position = positions[sample];
  let kv_base = (head / params.heads_per_kv) * params.capacity;

  // Pass 1: the row max over all causal keys.
  var m_i = MASKED_MAX;
  for (var key = local_index; key <= position; key += WORKGROUP_SIZE) {
    m_i = max(m_i, score(kv_base, key));
  }
  reduce_a[local_index] = m_i;
  reduce_b[local_index] = 0.0;
  workgroupBarrier();
  reduce_workgroup(local_index, true);
  let m_row = reduce_a[0];
  workgroupBarrier();

  // Pass 2: the full sum l of exp(s - m), and the part inside the anchor region.
  var l_i = 0.0;
  var kept = 0.0;
  for (var key = local_index; key <= position; key += WORKGROUP_SIZE) {
    let p = exp(score(kv_base, key) - m_row);
    l_i += p;
    if (key < params.init_count || key >= params.local_start) {
      kept += p;
    }
  }
  // Pass 3: the stripes, which all lie before the group and outside the anchor region.
  let stripe_count = counts[head];
  for (var slot = local_index; slot < stripe_count; slot += WORKGROUP_SIZE) {
    kept += exp(score(kv_base, indices[head * params.max_candidates + slot]) - m_row);
  }
  reduce_a[local_index] = l_i;
  reduce_b[local_index] = kept;
  workgroupBarrier();
  reduce_workgroup(local_index, false);

  // Epilogue: the row's own key is in the anchor region, so the sum is at least 1.
  if (local_index == 0u) {
    recall[sample * params.num_heads + head] = reduce_b[0] / reduce_a[0];
  }
}
