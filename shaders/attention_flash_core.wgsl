// Tile loop shared by the flash-style kernels (dense prefill, anchor steps 1 and 3), after FlashAttention
// (Dao et al., 2022): a workgroup owns BLOCK_M query rows of one head, LANES threads per row, and walks
// "key slots" BLOCK_N at a time. The including kernel maps a slot to a cache position with slot_key()
// and masks it per row with slot_visible(); it declares k_cache and v_cache ([Hkv, capacity, D]).

override BLOCK_M: u32;   // query rows per workgroup
override LANES: u32;     // threads per query row; lane l owns the element pairs l, l + LANES, ...
override BLOCK_N: u32;   // key slots per tile
override HEAD_DIM: u32;  // D, even

// Private capacity in element pairs per lane; the host keeps D / 2 <= LANES * LANE_PAIRS_MAX.
const LANE_PAIRS_MAX: u32 = 32u;
// Below every real score, so the first visible key replaces it; finite because WGSL drivers may
// assume no infinities. exp(MASKED_MAX - m) is then 0 for any real m.
const MASKED_MAX: f32 = -3.0e38;

var<workgroup> kv_tile: array<vec2<f32>, BLOCK_N * HEAD_DIM / 2>;       // [BLOCK_N, D / 2] K, then V
var<workgroup> score_parts: array<f32, BLOCK_M * BLOCK_N * LANES>;      // [BLOCK_M, BLOCK_N, LANES]

var<private> q_lane: array<vec2<f32>, LANE_PAIRS_MAX>;  // this lane's query pairs, times 1/sqrt(D)
var<private> acc: array<vec2<f32>, LANE_PAIRS_MAX>;     // unnormalised output, this lane's pairs
var<private> m_i: f32;                                  // running max of this row's visible scores
var<private> l_i: f32;                                  // running sum of exp(score - m_i)

fn lane_pair_count() -> u32 {
  return (HEAD_DIM / 2u + LANES - 1u) / LANES;
}

// Loads this lane's query pairs, scaled so that a dot product is the score; an inactive row
// (past the chunk) loads zeros and is never written back.
fn flash_load_query(q_row: u32, lane: u32, row_active: bool, scale: f32) {
  for (var i = 0u; i < lane_pair_count(); i++) {
    let c = lane + i * LANES;
    var pair = vec2<f32>(0.0);
    if (row_active && c < HEAD_DIM / 2u) {
      pair = vec2<f32>(q[q_row + 2u * c], q[q_row + 2u * c + 1u]) * scale;
    }
    q_lane[i] = pair;
  }
}

// Starts an empty online softmax: m_i at the sentinel, l_i = 0 and acc = 0 (nothing seen yet).
fn flash_reset_state() {
  m_i = MASKED_MAX;
  l_i = 0.0;
  for (var i = 0u; i < LANE_PAIRS_MAX; i++) {
    acc[i] = vec2<f32>(0.0);
  }
}

// Copies BLOCK_N key (or value) rows at slots tile_begin .. into kv_tile; slots past slot_count
// load zeros, which the visibility mask then ignores.
fn load_kv_tile(tile_begin: u32, slot_count: u32, kv_base: u32, local_index: u32, values: bool) {
  let half_dim = HEAD_DIM / 2u;
  for (var p = local_index; p < BLOCK_N * half_dim; p += BLOCK_M * LANES) {
    let n = p / half_dim;
    let c = p - n * half_dim;
    var pair = vec2<f32>(0.0);
    if (tile_begin + n < slot_count) {
      let word = (kv_base + slot_key(tile_begin + n)) * half_dim + c;
      if (values) {
        pair = load_v_pair(word);
      } else {
        pair = load_k_pair(word);
      }
    }
    kv_tile[p] = pair;
  }
}

fn tile_score(row_local: u32, n: u32) -> f32 {
  var score = 0.0;
  for (var l = 0u; l < LANES; l++) {
    score += score_parts[(row_local * BLOCK_N + n) * LANES + l];
  }
  return score;
}

// One tile of the online softmax for this thread's row. Must be called in workgroup-uniform
// control flow: it contains the barriers that separate the phases.
fn flash_tile(tile_begin: u32, slot_count: u32, kv_base: u32, row_local: u32, lane: u32,
              row_position: u32, local_index: u32) {
  let half_dim = HEAD_DIM / 2u;

  // Scores: each lane's partial dot product over its pairs, summed across lanes below.
  load_kv_tile(tile_begin, slot_count, kv_base, local_index, false);
  workgroupBarrier();
  for (var n = 0u; n < BLOCK_N; n++) {
    var part = 0.0;
    for (var i = 0u; i < lane_pair_count(); i++) {
      let c = lane + i * LANES;
      if (c < half_dim) {
        part += dot(q_lane[i], kv_tile[n * half_dim + c]);
      }
    }
    score_parts[(row_local * BLOCK_N + n) * LANES + lane] = part;
  }
  workgroupBarrier();

  // Every K read is done, so the V rows may overwrite the tile while the stats update.
  load_kv_tile(tile_begin, slot_count, kv_base, local_index, true);

  // Update stats: the new running max over this row's visible slots. Every lane of a row
  // sums the same parts in the same order, so m_i and l_i agree across lanes bit for bit.
  var m_new = m_i;
  for (var n = 0u; n < BLOCK_N; n++) {
    let slot = tile_begin + n;
    if (slot < slot_count && slot_visible(slot, row_position)) {
      m_new = max(m_new, tile_score(row_local, n));
    }
  }
  workgroupBarrier();

  // Rescale: alpha shrinks the old sum and accumulator to the new max (alpha = 1 when it did not move).
  let alpha = exp(m_i - m_new);
  l_i *= alpha;
  for (var i = 0u; i < lane_pair_count(); i++) {
    acc[i] *= alpha;
  }
  for (var n = 0u; n < BLOCK_N; n++) {
    let slot = tile_begin + n;
    if (slot < slot_count && slot_visible(slot, row_position)) {
      let p = exp(tile_score(row_local, n) - m_new);
      l_i += p;
      for (var i = 0u; i < lane_pair_count(); i++) {
        let c = lane + i * LANES;
        if (c < half_dim) {
          acc[i] += p * kv_tile[n * half_dim + c];
        }
      }
    }
  }
  m_i = m_new;
  // The next tile overwrites kv_tile and score_parts.
  workgroupBarrier();
}
