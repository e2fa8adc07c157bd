// AnchorAttention step 3: every row of the group continues its step-1 online softmax over the stripe keys
// listed for its head (all < gG <= row, so no causal mask), then writes out = acc / l.
// q, out: [G, H, D] f32; k_cache, v_cache: [Hkv, capacity, D]; stats: [Hc, G] (m, l); acc_state: [Hc, G, D];
// indices: [Hc, C] u32; counts: [Hc] u32, for the Hc heads from head_start.
// Grid: (ceil(G / BLOCK_M), Hc), BLOCK_M * LANES threads.

struct Params {
  rows: u32,             // G
  num_heads: u32,
  heads_per_kv: u32,     // H / Hkv
  capacity: u32,
  max_candidates: u32,   // C, the row length of indices
  scale: f32,            // 1 / sqrt(D), the value step 1 used
  head_start: u32,       // first query head of the dispatch; the state and stripe arrays are indexed from it
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;                     // [G, H, D] f32
@group(0) @binding(2) var<storage, read> k_cache: array<KvWord>;            // [Hkv, capacity, D] f32 or f16 pairs
@group(0) @binding(3) var<storage, read> v_cache: array<KvWord>;            // [Hkv, capacity, D] f32 or f16 pairs
@group(0) @binding(4) var<storage, read> stats: array<vec2<f32>>;           // [Hc, G] (m, l) f32
@group(0) @binding(5) var<storage, read> acc_state: array<f32>;             // [Hc, G, D] f32
@group(0) @binding(6) var<storage, read> indices: array<u32>;               // [Hc, C] u32
@group(0) @binding(7) var<storage, read> counts: array<u32>;                // [Hc] u32
@group(0) @binding(8) var<storage, read_write> out: array<f32>;             // [G, H, D] f32

var<workgroup> stripe_count: u32;   // counts[head], shared so the tile loop bound is workgroup-uniform
var<private> stripe_base: u32;      // local_head * C: this head's row of indices

fn slot_key(slot: u32) -> u32 { return indices[stripe_base + slot]; }
fn slot_visible(_slot: u32, _row_position: u32) -> bool { return true; }

@compute @workgroup_size(BLOCK_M * LANES)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) local_index: u32) {
  let tile_row = wid.x * BLOCK_M;
  let local_head = wid.y;
  let head = params.head_start + local_head;
  // Whole-workgroup exit only: the tile loop has barriers, so rows past G stay in as inactive rows.
  if (tile_row >= params.rows || head >= params.num_heads) {
    return;
  }
  let row_local = local_index / LANES;
  let lane = local_index % LANES;
  let row = tile_row + row_local;
  let row_active = row < params.rows;
  let q_row = (row * params.num_heads + head) * HEAD_DIM;
  stripe_base = local_head * params.max_candidates;

  flash_load_query(q_row, lane, row_active, params.scale);
  flash_reset_state();
  let state_row = local_head * params.rows + row;
  if (row_active) {
    let state = stats[state_row];
    m_i = state.x;
    l_i = state.y;
    for (var i = 0u; i < lane_pair_count(); i++) {
      let c = lane + i * LANES;
      if (c < HEAD_DIM / 2u) {
        acc[i] = vec2<f32>(acc_state[state_row * HEAD_DIM + 2u * c], acc_state[state_row * HEAD_DIM + 2u * c + 1u]);
      }
    }
  }

  if (local_index == 0u) {
    stripe_count = counts[local_head];
  }
  let slot_count = workgroupUniformLoad(&stripe_count);
  let kv_base = (head / params.heads_per_kv) * params.capacity;
  for (var tile_begin = 0u; tile_begin < slot_count; tile_begin += BLOCK_N) {
    flash_tile(tile_begin, slot_count, kv_base, row_local, lane, 0u, local_index);
  }

  // Epilogue: normalise. The anchor region holds the row's own key, so l_i >= 1.
  if (!row_active) {
    return;
  }
  for (var i = 0u; i < lane_pair_count(); i++) {
    let c = lane + i * LANES;
    if (c < HEAD_DIM / 2u) {
      let o = acc[i] / l_i;
      out[q_row + 2u * c] = o.x;
      out[q_row + 2u * c + 1u] = o.y;
    }
  }
}
