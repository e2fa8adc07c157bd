// Dense causal prefill attention, v1: flash tiles over the KV cache with an online softmax.
// Row r of the chunk (absolute position start + r) attends keys 0 ..= start + r of KV head h / (H / Hkv).
// q, out: [T, H, D] f32; k_cache, v_cache: [Hkv, capacity, D] f32 or f16 pairs.
// Grid: (ceil(rows / BLOCK_M), head_count), BLOCK_M * LANES threads per workgroup; workgroup y runs
// head head_start + y, so a head range can be timed alone.

struct Params {
  rows: u32,
  start: u32,          // absolute position of row 0
  num_heads: u32,
  heads_per_kv: u32,   // H / Hkv
  capacity: u32,
  scale: f32,          // 1 / sqrt(D)
  head_start: u32,     // first query head of the dispatch
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;                 // [T, H, D] f32
@group(0) @binding(2) var<storage, read> k_cache: array<KvWord>;        // [Hkv, capacity, D] f32 or f16 pairs
@group(0) @binding(3) var<storage, read> v_cache: array<KvWord>;        // [Hkv, capacity, D] f32 or f16 pairs
@group(0) @binding(4) var<storage, read_write> out: array<f32>;         // [T, H, D] f32

// Slots are cache positions, masked causally.
fn slot_key(slot: u32) -> u32 { return slot; }
fn slot_visible(slot: u32, row_position: u32) -> bool { return slot <= row_position; }

@compute @workgroup_size(BLOCK_M * LANES)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) local_index: u32) {
  let tile_row = wid.x * BLOCK_M;
  let head = params.head_start + wid.y;
  // Whole-workgroup exit only: the tile loop below has barriers, so rows past the chunk stay
  // in it as inactive rows instead of returning.
  if (tile_row >= params.rows || head >= params.num_heads) {
    return;
  }
  let row_local = local_index / LANES;
  let lane = local_index % LANES;
  let row = tile_row + row_local;
  let row_active = row < params.rows;
  let row_position = params.start + row;
  let q_row = (row * params.num_heads + head) * HEAD_DIM;

  flash_load_query(q_row, lane, row_active, params.scale);
  flash_reset_state();

  // Keys up to the workgroup's last active row; the causal mask trims the earlier rows.
  let slot_count = params.start + min(tile_row + BLOCK_M, params.rows);
  let kv_base = (head / params.heads_per_kv) * params.capacity;
  for (var tile_begin = 0u; tile_begin < slot_count; tile_begin += BLOCK_N) {
    flash_tile(tile_begin, slot_count, kv_base, row_local, lane, row_position, local_index);
  }

  // Epilogue: normalise. Key 0 is visible to every row, so l_i >= 1 here.
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
