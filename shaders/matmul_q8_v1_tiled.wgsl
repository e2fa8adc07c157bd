// Linear layer for T > 1 over 8-bit weights: out[t, col_offset + o] = sum_k x[t, k] * q[o, k] * scale[o, k / group]
// + bias[col_offset + o], for the rows o of one part of a (possibly row-split) quantized weight. The tiling is
// matmul_v1_tiled.wgsl's; each weight is widened to f32 and multiplied by its group's scale while staging.
// Dispatch: (ceil(part_out / TILE_COLS), ceil(T / TILE_ROWS)); THREAD_ROWS and THREAD_COLS are prepended as consts.
override WORKGROUP_X: u32; // invocations along output columns
override WORKGROUP_Y: u32; // invocations along rows of x
override TILE_K: u32;
override TILE_ROWS: u32 = WORKGROUP_Y * THREAD_ROWS;
override TILE_COLS: u32 = WORKGROUP_X * THREAD_COLS;

struct Params {
  rows: u32,           // T
  in_features: u32,
  part_out: u32,       // rows of this weight part
  out_stride: u32,     // out features of the whole layer
  col_offset: u32,     // first output column of this part
  has_bias: u32,
  words_per_row: u32,  // ceil(in / 4)
  groups_per_row: u32, // ceil(in / group_size)
  group_size: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;              // [T, in] f32
@group(0) @binding(1) var<storage, read> q: array<u32>;              // [part_out, words_per_row] int8, four per u32
@group(0) @binding(2) var<storage, read> scales: array<f32>;         // [part_out, groups_per_row] f32
@group(0) @binding(3) var<storage, read> bias: array<u32>;           // [out] bias dtype, unread when has_bias == 0
@group(0) @binding(4) var<storage, read_write> out: array<f32>;      // [T, out] f32
@group(0) @binding(5) var<uniform> params: Params;

var<workgroup> x_tile: array<f32, TILE_ROWS * TILE_K>;  // [TILE_ROWS, TILE_K]
var<workgroup> w_tile: array<f32, TILE_COLS * TILE_K>;  // [TILE_COLS, TILE_K]

@compute @workgroup_size(WORKGROUP_X, WORKGROUP_Y)
fn matmul_q8(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row0 = wid.y * TILE_ROWS;
  let col0 = wid.x * TILE_COLS;
  if (row0 >= params.rows || col0 >= params.part_out) { return; }
  let threads = WORKGROUP_X * WORKGROUP_Y;

  // acc[i * THREAD_COLS + j] is out[row0 + local.y + i * WORKGROUP_Y, col0 + local.x + j * WORKGROUP_X].
  var acc: array<f32, THREAD_ROWS * THREAD_COLS>;
  for (var k0 = 0u; k0 < params.in_features; k0 += TILE_K) {
    // Stage the tiles; entries past T, part_out or in are zero so they add nothing.
    for (var i = lid; i < TILE_ROWS * TILE_K; i += threads) {
      let row = row0 + i / TILE_K;
      let k = k0 + i % TILE_K;
      var value = 0.0;
      if (row < params.rows && k < params.in_features) { value = x[row * params.in_features + k]; }
      x_tile[i] = value;
    }
    for (var i = lid; i < TILE_COLS * TILE_K; i += threads) {
      let col = col0 + i / TILE_K;
      let k = k0 + i % TILE_K;
      var value = 0.0;
      if (col < params.part_out && k < params.in_features) {
        let scale = scales[col * params.groups_per_row + k / params.group_size];
        value = q8_byte(q[col * params.words_per_row + k / 4u], k % 4u) * scale;
      }
      w_tile[i] = value;
    }
    workgroupBarrier();

    for (var k = 0u; k < TILE_K; k++) {
      var w_col: array<f32, THREAD_COLS>;
      for (var j = 0u; j < THREAD_COLS; j++) { w_col[j] = w_tile[(local.x + j * WORKGROUP_X) * TILE_K + k]; }
      for (var i = 0u; i < THREAD_ROWS; i++) {
        let x_value = x_tile[(local.y + i * WORKGROUP_Y) * TILE_K + k];
        for (var j = 0u; j < THREAD_COLS; j++) { acc[i * THREAD_COLS + j] += x_value * w_col[j]; }
      }
    }
    // The next iteration overwrites the tiles that other invocations may still be reading.
    workgroupBarrier();
  }

  for (var i = 0u; i < THREAD_ROWS; i++) {
    let row = row0 + local.y + i * WORKGROUP_Y;
    if (row >= params.rows) { continue; }
    for (var j = 0u; j < THREAD_COLS; j++) {
      let col = col0 + local.x + j * WORKGROUP_X;
      if (col >= params.part_out) { continue; }
      let out_col = params.col_offset + col;
      var value = acc[i * THREAD_COLS + j];
      if (params.has_bias == 1u) { value += weight_at(bias[out_col / WEIGHT_ELEMENTS_PER_WORD], out_col); }
      out[row * params.out_stride + out_col] = value;
    }
  }
}
