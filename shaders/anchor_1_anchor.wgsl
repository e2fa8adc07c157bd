// AnchorAttention step 1: for every row r of group g, the online softmax state (m, l, acc) over the
// anchor region [0, init_count) ∪ [local_start, r]; the anchor of row r is m. The state is kept for step 3.
// q: [G, H, D] f32; k_cache, v_cache: [Hkv, capacity, D]; stats: [Hc, G] (m, l) f32; acc_state: [Hc, G, D] f32,
// where Hc heads from head_start run. Grid: (ceil(G / BLOCK_M), Hc), BLOCK_M * LANES threads per workgroup.

struct Params {
  rows: u32,           // G
  start: u32,          // absolute position of row 0, g * G
  num_heads: u32,
  heads_per_kv: u32,   // H / Hkv
  capacity: u32,
  scale: f32,          // 1 / sqrt(D)
  init_count: u32,     // min(initGroups * G, local_start): init keys before the local region
  local_start: u32,    // max(0, (g - localGroups + 1) * G)
  head_start: u32,     // first query head of the dispatch; the state arrays are indexed from it
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;                     // [G, H, D] f32
@group(0) @binding(2) var<storage, read> k_cache: array<KvWord>;            // [Hkv, capacity, D] f32 or f16 pairs
@group(0) @binding(3) var<storage, read> v_cache: array<KvWord>;            // [Hkv, capacity, D] f32 or f16 pairs
@group(0) @binding(4) var<storage, read_write> stats: array<vec2<f32>>;     // [Hc, G] (m, l) f32
@group(0) @binding(5) var<storage, read_write> acc_state: array<f32>;       // [Hc, G, D] f32

// Slots [0, init_count) are the init keys, the rest walk the local region from local_start.
// Clipping the init part at local_start visits each key once when the regions overlap or touch.
fn slot_key(slot: u32) -> u32 {
  return select(params.local_start + slot - params.init_count, slot, slot < params.init_count);
}
fn slot_visible(slot: u32, row_position: u32) -> bool { return slot_key(slot) <= row_position; }

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
  let row_position = params.start + row;

  flash_load_query((row * params.num_heads + head) * HEAD_DIM, lane, row_active, params.scale);
  flash_reset_state();

  // Init slots, then local keys up to the workgroup's last active row.
  let last_position = params.start + min(tile_row + BLOCK_M, params.rows) - 1u;
  let slot_count = params.init_count + last_position + 1u - params.local_start;
  let kv_base = (head / params.heads_per_kv) * params.capacity;
  for (var tile_begin = 0u; tile_begin < slot_count; tile_begin += BLOCK_N) {
    flash_tile(tile_begin, slot_count, kv_base, row_local, lane, row_position, local_index);
  }

  // Epilogue: keep the unnormalised state; step 3 continues it and divides.
  if (!row_active) {
    return;
  }
  let state_row = local_head * params.rows + row;
  if (lane == 0u) {
    stats[state_row] = vec2<f32>(m_i, l_i);
  }
  for (var i = 0u; i < lane_pair_count(); i++) {
    let c = lane + i * LANES;
    if (c < HEAD_DIM / 2u) {
      acc_state[state_row * HEAD_DIM + 2u * c] = acc[i].x;
      acc_state[state_row * HEAD_DIM + 2u * c + 1u] = acc[i].y;
    }
  }
}
