// AnchorAttention step 2b: the candidate score of every key j in [candidate_start, candidate_start + C),
// max_p (q̄_p · k_j · scale − ā_p), and its selection flag (score >= −theta), with a count per block.
// q_mean: [Hc, s, D] f32; anchor_mean: [Hc, s] f32; k_cache: [Hkv, capacity, D]; scores, flags: [Hc, C];
// block_counts: [Hc, blocks] u32, for the Hc heads from head_start. Grid: (blocks = ceil(C / WORKGROUP_SIZE), Hc).

struct Params {
  candidate_start: u32,
  candidate_count: u32,   // C
  num_heads: u32,         // Hc, the heads of the dispatch
  heads_per_kv: u32,      // H / Hkv
  capacity: u32,
  step: u32,              // s
  scale: f32,             // 1 / sqrt(D)
  neg_theta: f32,         // −theta, clamped to a finite f32
  num_blocks: u32,
  head_start: u32,        // first query head of the dispatch; every array but k_cache is indexed from it
}

override WORKGROUP_SIZE: u32;
override HEAD_DIM: u32;

// Below every real score; finite because WGSL drivers may assume no infinities.
const MASKED_MAX: f32 = -3.0e38;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> q_mean: array<vec2<f32>>;          // [Hc, s, D] f32
@group(0) @binding(2) var<storage, read> anchor_mean: array<f32>;           // [Hc, s] f32
@group(0) @binding(3) var<storage, read> k_cache: array<KvWord>;            // [Hkv, capacity, D] f32 or f16 pairs
@group(0) @binding(4) var<storage, read_write> scores: array<f32>;          // [Hc, C] f32
@group(0) @binding(5) var<storage, read_write> flags: array<u32>;           // [Hc, C] u32, 1 = selected
@group(0) @binding(6) var<storage, read_write> block_counts: array<u32>;    // [Hc, blocks] u32

var<workgroup> block_selected: atomic<u32>;   // zero at dispatch start, as all workgroup memory is

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) local_index: u32) {
  let block = wid.x;
  let head = wid.y;   // local head: row of every array but k_cache
  // Whole-workgroup exit only: the count below needs a barrier, so threads past C stay in unselected.
  if (block >= params.num_blocks || head >= params.num_heads) {
    return;
  }
  let half_dim = HEAD_DIM / 2u;
  let candidate = block * WORKGROUP_SIZE + local_index;
  if (candidate < params.candidate_count) {
    let k_row = (((params.head_start + head) / params.heads_per_kv) * params.capacity + params.candidate_start + candidate) * half_dim;
    var best = MASKED_MAX;
    for (var p = 0u; p < params.step; p++) {
      let mean_row = (head * params.step + p) * half_dim;
      var dot_qk = 0.0;
      for (var c = 0u; c < half_dim; c++) {
        dot_qk += dot(q_mean[mean_row + c], load_k_pair(k_row + c));
      }
      best = max(best, dot_qk * params.scale - anchor_mean[head * params.step + p]);
    }
    let selected = u32(best >= params.neg_theta);
    scores[head * params.candidate_count + candidate] = best;
    flags[head * params.candidate_count + candidate] = selected;
    atomicAdd(&block_selected, selected);
  }
  workgroupBarrier();
  if (local_index == 0u) {
    block_counts[head * params.num_blocks + block] = atomicLoad(&block_selected);
  }
}
