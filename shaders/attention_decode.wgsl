// Decode attention: one query row per head over cache keys 0 .. length - 1, with an online softmax
// over tiles of WORKGROUP_SIZE keys (one key per thread for the scores, element pairs per thread for acc).
// q, out: [1, H, D] f32; k_cache, v_cache: [Hkv, capacity, D] f32 or f16 pairs.
// Grid: (H), WORKGROUP_SIZE threads per workgroup.

struct Params {
  length: u32,         // keys 0 .. length - 1 are attended
  num_heads: u32,
  heads_per_kv: u32,   // H / Hkv
  capacity: u32,
  scale: f32,          // 1 / sqrt(D)
}

override WORKGROUP_SIZE: u32;
override HEAD_DIM: u32;

// Private capacity in element pairs per thread; the host keeps D / 2 <= WORKGROUP_SIZE * THREAD_PAIRS_MAX.
const THREAD_PAIRS_MAX: u32 = 4u;
// Below every real score, so the first key replaces it; finite because WGSL drivers may assume no infinities.
const MASKED_MAX: f32 = -3.0e38;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;                 // [1, H, D] f32
@group(0) @binding(2) var<storage, read> k_cache: array<KvWord>;        // [Hkv, capacity, D] f32 or f16 pairs
@group(0) @binding(3) var<storage, read> v_cache: array<KvWord>;        // [Hkv, capacity, D] f32 or f16 pairs
@group(0) @binding(4) var<storage, read_write> out: array<f32>;         // [1, H, D] f32

var<workgroup> q_shared: array<vec2<f32>, HEAD_DIM / 2>;     // [D / 2] query pairs, times 1/sqrt(D)
var<workgroup> tile_scores: array<f32, WORKGROUP_SIZE>;      // [WORKGROUP_SIZE] scores of the current tile

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) local_index: u32) {
  let head = wid.x;
  if (head >= params.num_heads) {
    return;
  }
  let half_dim = HEAD_DIM / 2u;
  let q_row = head * HEAD_DIM;
  for (var c = local_index; c < half_dim; c += WORKGROUP_SIZE) {
    q_shared[c] = vec2<f32>(q[q_row + 2u * c], q[q_row + 2u * c + 1u]) * params.scale;
  }
  workgroupBarrier();

  let kv_base = (head / params.heads_per_kv) * params.capacity;
  var m_i = MASKED_MAX;   // running max of the scores seen so far
  var l_i = 0.0;          // running sum of exp(score - m_i); nothing seen yet
  var acc: array<vec2<f32>, THREAD_PAIRS_MAX>;   // zero-initialised: nothing accumulated yet
  for (var tile_begin = 0u; tile_begin < params.length; tile_begin += WORKGROUP_SIZE) {
    // Scores: thread t scores key tile_begin + t; keys past the length get the sentinel.
    let key = tile_begin + local_index;
    var score = MASKED_MAX;
    if (key < params.length) {
      var dot_qk = 0.0;
      let k_row = (kv_base + key) * half_dim;
      for (var c = 0u; c < half_dim; c++) {
        dot_qk += dot(q_shared[c], load_k_pair(k_row + c));
      }
      score = dot_qk;
    }
    tile_scores[local_index] = score;
    workgroupBarrier();

    // Update stats: every thread reads the whole tile, so all agree on m_new without a tree reduction.
    let tile_keys = min(WORKGROUP_SIZE, params.length - tile_begin);
    var m_new = m_i;
    for (var n = 0u; n < tile_keys; n++) {
      m_new = max(m_new, tile_scores[n]);
    }

    // Rescale, then accumulate this thread's pairs of the value rows.
    let alpha = exp(m_i - m_new);
    l_i *= alpha;
    for (var i = 0u; i < THREAD_PAIRS_MAX; i++) {
      acc[i] *= alpha;
    }
    for (var n = 0u; n < tile_keys; n++) {
      let p = exp(tile_scores[n] - m_new);
      l_i += p;
      let v_row = (kv_base + tile_begin + n) * half_dim;
      for (var i = 0u; i * WORKGROUP_SIZE + local_index < half_dim; i++) {
        acc[i] += p * load_v_pair(v_row + i * WORKGROUP_SIZE + local_index);
      }
    }
    m_i = m_new;
    // The next tile overwrites tile_scores.
    workgroupBarrier();
  }

  // Epilogue: normalise this thread's pairs; length >= 1, so l_i >= 1.
  for (var i = 0u; i * WORKGROUP_SIZE + local_index < half_dim; i++) {
    let c = i * WORKGROUP_SIZE + local_index;
    let o = acc[i] / l_i;
    out[q_row + 2u * c] = o.x;
    out[q_row + 2u * c + 1u] = o.y;
  }
}
