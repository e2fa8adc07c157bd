// Block-sparse causal prefill attention: query block qb (positions qb·B .. qb·B + B - 1) attends only the
// key blocks listed for it in a CSR block mask, causally masked inside the diagonal block, with the flash tile loop.
// q, out: [T, H, D] f32; k_cache, v_cache: [Hkv, capacity, D]; block_offsets: [H or 1, Q + 1]; key_blocks: [nnz] u32.
// Grid: (query blocks of the chunk · ceil(B / BLOCK_M), H), BLOCK_M * LANES threads; a workgroup never spans two query blocks.

struct Params {
  rows: u32,               // rows of the chunk
  start: u32,              // absolute position of row 0
  num_heads: u32,
  heads_per_kv: u32,       // H / Hkv
  capacity: u32,
  scale: f32,              // 1 / sqrt(D)
  block_size: u32,         // B, rows and keys per block
  first_block: u32,        // floor(start / B): the query block of workgroup column 0
  tiles_per_block: u32,    // ceil(B / BLOCK_M)
  offsets_per_head: u32,   // Q + 1 for per-head masks, 0 when every head shares one mask
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;                     // [T, H, D] f32
@group(0) @binding(2) var<storage, read> k_cache: array<KvWord>;            // [Hkv, capacity, D] f32 or f16 pairs
@group(0) @binding(3) var<storage, read> v_cache: array<KvWord>;            // [Hkv, capacity, D] f32 or f16 pairs
@group(0) @binding(4) var<storage, read> block_offsets: array<u32>;         // [H or 1, Q + 1] u32, into key_blocks
@group(0) @binding(5) var<storage, read> key_blocks: array<u32>;            // [nnz] u32, sorted per query block
@group(0) @binding(6) var<storage, read_write> out: array<f32>;             // [T, H, D] f32

var<workgroup> shared_count: u32;   // listed key blocks of this query block, shared for a uniform loop bound
var<workgroup> shared_block: u32;   // the key block being visited, shared for a uniform tile count
var<private> key_start: u32;        // first key of the key block being visited

// Within one listed key block, slot s is key key_start + s. The tile count stops at the workgroup's
// last row, so every loaded key is a cache position below start + rows.
fn slot_key(slot: u32) -> u32 { return key_start + slot; }
fn slot_visible(slot: u32, row_position: u32) -> bool { return key_start + slot <= row_position; }

@compute @workgroup_size(BLOCK_M * LANES)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) local_index: u32) {
  let block = params.first_block + wid.x / params.tiles_per_block;
  let block_row = (wid.x % params.tiles_per_block) * BLOCK_M;
  let head = wid.y;
  let block_start = block * params.block_size;
  let chunk_end = params.start + params.rows;
  // Whole-workgroup exit only: the tile loop has barriers, so rows outside the chunk or past
  // the block stay in as inactive rows instead of returning.
  if (head >= params.num_heads || block_start + block_row >= chunk_end || block_start + block_row + BLOCK_M <= params.start) {
    return;
  }
  let row_local = local_index / LANES;
  let lane = local_index % LANES;
  let row_position = block_start + block_row + row_local;
  let row_active = block_row + row_local < params.block_size && row_position >= params.start && row_position < chunk_end;
  let row = select(0u, row_position - params.start, row_active);
  let q_row = (row * params.num_heads + head) * HEAD_DIM;
  // One past the workgroup's last active row position: no later key is visible to any of its rows.
  let key_end = min(min(block_start + block_row + BLOCK_M, block_start + params.block_size), chunk_end);

  flash_load_query(q_row, lane, row_active, params.scale);
  flash_reset_state();

  let offsets_base = head * params.offsets_per_head + block;
  let list_begin = block_offsets[offsets_base];
  if (local_index == 0u) {
    shared_count = block_offsets[offsets_base + 1u] - list_begin;
  }
  let block_count = workgroupUniformLoad(&shared_count);
  let kv_base = (head / params.heads_per_kv) * params.capacity;
  for (var i = 0u; i < block_count; i++) {
    if (local_index == 0u) {
      shared_block = key_blocks[list_begin + i];
    }
    // A local copy bounds the loop: the uniformity analysis treats every read of a private variable as non-uniform.
    let block_key_start = workgroupUniformLoad(&shared_block) * params.block_size;
    key_start = block_key_start;
    // Keys of this block up to the last row; 0 for a listed block after it (not causal).
    let slot_count = min(params.block_size, max(key_end, block_key_start) - block_key_start);
    for (var tile_begin = 0u; tile_begin < slot_count; tile_begin += BLOCK_N) {
      flash_tile(tile_begin, slot_count, kv_base, row_local, lane, row_position, local_index);
    }
    // Thread 0 overwrites shared_block next; every thread has read it once all pass this barrier.
    workgroupBarrier();
  }

  // Epilogue: normalise. A row whose mask lists no visible key has l_i = 0 and outputs zeros,
  // as the reference does, instead of dividing by zero.
  if (!row_active) {
    return;
  }
  let inverse_l = select(0.0, 1.0 / l_i, l_i > 0.0);
  for (var i = 0u; i < lane_pair_count(); i++) {
    let c = lane + i * LANES;
    if (c < HEAD_DIM / 2u) {
      let o = acc[i] * inverse_l;
      out[q_row + 2u * c] = o.x;
      out[q_row + 2u * c + 1u] = o.y;
    }
  }
}
