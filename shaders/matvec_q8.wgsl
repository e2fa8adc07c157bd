// Matrix-vector product for decode (T = 1) over 8-bit weights: out[col_offset + o] = sum_k x[k] * q[o, k] *
// scale[o, k / group] + bias[col_offset + o] for the rows o of one part of a (possibly row-split) quantized weight.
// Each invocation reads whole u32 words (four weights of one group) and the sum is reduced across the workgroup.
// Dispatch: one workgroup per row o, folded into 2D by workgroupGrid.
override WORKGROUP_SIZE: u32; // a power of two, for the tree reduction

struct Params {
  rows: u32,           // unused: T is 1; kept so the uniform layout matches matmul_q8_v1_tiled.wgsl
  in_features: u32,
  part_out: u32,
  out_stride: u32,
  col_offset: u32,
  has_bias: u32,
  words_per_row: u32,
  groups_per_row: u32,
  group_size: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;              // [1, in] f32
@group(0) @binding(1) var<storage, read> q: array<u32>;              // [part_out, words_per_row] int8, four per u32
@group(0) @binding(2) var<storage, read> scales: array<f32>;         // [part_out, groups_per_row] f32
@group(0) @binding(3) var<storage, read> bias: array<u32>;           // [out] bias dtype, unread when has_bias == 0
@group(0) @binding(4) var<storage, read_write> out: array<f32>;      // [1, out] f32
@group(0) @binding(5) var<uniform> params: Params;

var<workgroup> partial_sums: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn matvec_q8(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = linear_workgroup(wid, nwg);
  if (row >= params.part_out) { return; }
  let word_base = row * params.words_per_row;
  let scale_base = row * params.groups_per_row;
  var sum = 0.0;
  for (var w = lid; w < params.words_per_row; w += WORKGROUP_SIZE) {
    let k = 4u * w;
    // Zero x past `in` (the padding bytes of the last word are zero too, but x has no such entries).
    var xs = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
      if (k + j < params.in_features) { xs[j] = x[k + j]; }
    }
    // group_size is a multiple of 4, so the four weights of a word share one scale.
    sum += dot(xs, q8_word(q[word_base + w])) * scales[scale_base + k / params.group_size];
  }
  partial_sums[lid] = sum;
  workgroupBarrier();
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) { partial_sums[lid] += partial_sums[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let out_col = params.col_offset + row;
    var value = partial_sums[0];
    if (params.has_bias == 1u) { value += weight_at(bias[out_col / WEIGHT_ELEMENTS_PER_WORD], out_col); }
    out[out_col] = value;
  }
}
