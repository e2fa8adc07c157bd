// Symmetric per-group int8 quantization of one weight part [rows, in]: for each group of GROUP consecutive
// elements of a row (the last group of a row may be shorter), scale = f32(max|w| * f32(1/127)) and
// q = round-half-to-even of the exact quotient w / scale, which is always within [-127, 127].
// Dispatch: one invocation per (row, group), QUANTIZE_WORKGROUP_SIZE per workgroup, folded into 2D by workgroupGrid.
override WORKGROUP_SIZE: u32;

struct Params {
  rows: u32,           // rows of this part
  in_features: u32,
  words_per_row: u32,  // ceil(in / 4): rows of q start on a whole u32
  groups_per_row: u32, // ceil(in / group_size)
  group_size: u32,     // 32 or 64, a multiple of 4 so that groups start on a whole u32
}

@group(0) @binding(0) var<storage, read> weight: array<u32>;         // [rows, in] weight dtype
@group(0) @binding(1) var<storage, read_write> q: array<u32>;        // [rows, words_per_row] int8, four per u32, low byte first
@group(0) @binding(2) var<storage, read_write> scales: array<f32>;   // [rows, groups_per_row] f32
@group(0) @binding(3) var<uniform> params: Params;

// f32(1/127), written as its bits so that no compiler rounds the constant differently.
const INV_127: f32 = bitcast<f32>(0x3c010204u);

// Integer significand and biased exponent of a non-negative finite f32, with subnormals
// read exactly (exponent 1, no implicit bit): the value is mantissa * 2^(exponent - 150).
fn significand(bits: u32) -> u32 {
  let fraction = bits & 0x7fffffu;
  return select(fraction, fraction | 0x800000u, (bits >> 23u) != 0u);
}
fn biased_exponent(bits: u32) -> i32 { return max(i32(bits >> 23u), 1); }

// Sign of |w| - (k + 1/2) * scale, computed exactly in integers: f32 division is only accurate to
// 2.5 ulp in WGSL, which would move rounding ties. Both sides are mantissa * 2^e with
// (2k + 1) * mantissa(scale) < 255 * 2^24, so each comparison fits in a u32 after one shift.
fn compare_half_step(abs_bits: u32, k: u32, scale_bits: u32) -> i32 {
  let w_mantissa = significand(abs_bits);
  if (w_mantissa == 0u) { return -1; }
  let threshold = (2u * k + 1u) * significand(scale_bits);
  let shift = biased_exponent(abs_bits) - biased_exponent(scale_bits) + 1;
  var lhs: u32;
  var rhs: u32;
  if (shift >= 0) {
    let s = u32(shift);
    if (s >= 32u || w_mantissa > (0xffffffffu >> s)) { return 1; }
    lhs = w_mantissa << s;
    rhs = threshold;
  } else {
    let s = u32(-shift);
    if (s >= 32u || threshold > (0xffffffffu >> s)) { return -1; }
    lhs = w_mantissa;
    rhs = threshold << s;
  }
  if (lhs > rhs) { return 1; }
  if (lhs < rhs) { return -1; }
  return 0;
}

// round(|w| / scale) with ties to even, at most 127: the count of half-steps (k + 1/2) * scale
// below |w|, found by bisection over k in [0, 127).
fn quantize_magnitude(abs_bits: u32, scale_bits: u32) -> u32 {
  var lo = 0u;
  var hi = 127u;
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (compare_half_step(abs_bits, mid, scale_bits) > 0) { lo = mid + 1u; } else { hi = mid; }
  }
  // |w| exactly on the half-step above an odd k rounds up to the even k + 1.
  if (lo < 127u && (lo & 1u) == 1u && compare_half_step(abs_bits, lo, scale_bits) == 0) { lo += 1u; }
  return lo;
}

fn element_bits(row: u32, k: u32) -> u32 {
  let element = row * params.in_features + k;
  return bitcast<u32>(weight_at(weight[element / WEIGHT_ELEMENTS_PER_WORD], element));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn quantize_q8(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let index = linear_workgroup(wid, nwg) * WORKGROUP_SIZE + lid;
  if (index >= params.rows * params.groups_per_row) { return; }
  let row = index / params.groups_per_row;
  let group = index % params.groups_per_row;
  let k0 = group * params.group_size;
  let k1 = min(k0 + params.group_size, params.in_features);

  // max|w| compared as bits: for non-negative f32 the bit patterns order like the values.
  var max_bits = 0u;
  for (var k = k0; k < k1; k++) { max_bits = max(max_bits, element_bits(row, k) & 0x7fffffffu); }
  // NOTE: a group whose max|w| is subnormal may get scale 0 where the device flushes subnormals.
  let scale = bitcast<f32>(max_bits) * INV_127;
  let scale_bits = bitcast<u32>(scale);
  scales[row * params.groups_per_row + group] = scale;

  let word0 = row * params.words_per_row + k0 / 4u;
  for (var k = k0; k < k1; k += 4u) {
    var word = 0u;
    for (var j = 0u; j < 4u; j++) {
      if (k + j >= k1 || scale_bits == 0u) { continue; }
      let bits = element_bits(row, k + j);
      let magnitude = i32(quantize_magnitude(bits & 0x7fffffffu, scale_bits));
      let value = select(magnitude, -magnitude, (bits >> 31u) == 1u);
      word |= (bitcast<u32>(value) & 0xffu) << (8u * j);
    }
    q[word0 + (k - k0) / 4u] = word;
  }
}
