// Matrix-vector product for decode (T = 1): out[col_offset + o] = dot(x, weight[o, :]) + bias[col_offset + o]
// for the rows o of one part of a (possibly row-split) weight. LANES_PER_ROW invocations share one row, each
// reading every LANES_PER_ROW-th element, and their partial sums are reduced in workgroup memory.
// Dispatch: one workgroup per ROWS_PER_WORKGROUP rows, folded into 2D by workgroupGrid.
override WORKGROUP_SIZE: u32;
override LANES_PER_ROW: u32;  // a power of two dividing WORKGROUP_SIZE
override ROWS_PER_WORKGROUP: u32 = WORKGROUP_SIZE / LANES_PER_ROW;

struct Params {
  rows: u32,       // unused: T is 1; kept so the uniform layout matches matmul_v1_tiled.wgsl
  in_features: u32,
  part_out: u32,
  out_stride: u32,
  col_offset: u32,
  has_bias: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;           // [1, in] f32
@group(0) @binding(1) var<storage, read> weight: array<u32>;      // [part_out, in] weight dtype
@group(0) @binding(2) var<storage, read> bias: array<u32>;        // [out] weight dtype, unread when has_bias == 0
@group(0) @binding(3) var<storage, read_write> out: array<f32>;   // [1, out] f32
@group(0) @binding(4) var<uniform> params: Params;

var<workgroup> partial_sums: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn matvec(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let lane = lid % LANES_PER_ROW;
  let row = linear_workgroup(wid, nwg) * ROWS_PER_WORKGROUP + lid / LANES_PER_ROW;
  // Rows past the part still take part in the barriers below, so they skip the work instead of returning.
  let in_range = row < params.part_out;
  var sum = 0.0;
  if (in_range) {
    let base = row * params.in_features;
    for (var k = lane; k < params.in_features; k += LANES_PER_ROW) {
      let element = base + k;
      sum += x[k] * weight_at(weight[element / WEIGHT_ELEMENTS_PER_WORD], element);
    }
  }
  partial_sums[lid] = sum;
  workgroupBarrier();
  for (var stride = LANES_PER_ROW / 2u; stride > 0u; stride /= 2u) {
    if (lane < stride) { partial_sums[lid] += partial_sums[lid + stride]; }
    workgroupBarrier();
  }
  if (in_range && lane == 0u) {
    let out_col = params.col_offset + row;
    var value = partial_sums[lid];
    if (params.has_bias == 1u) { value += weight_at(bias[out_col / WEIGHT_ELEMENTS_PER_WORD], out_col); }
    out[out_col] = value;
  }
}
