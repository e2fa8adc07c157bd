// RoPE in the rotate-half layout, in place. For row r at position p = start_position + r, head h and
// i < R/2 (R = 2 * len(inv_freq) rotary dimensions of each head), a = f32(p) * inv_freq[i] and
// (x[i], x[i + R/2]) <- (x[i] cos a - x[i + R/2] sin a, x[i + R/2] cos a + x[i] sin a); dims >= R are left alone.
// Dispatch: one invocation per (row, head, i), workgroups folded into 2D by workgroupGrid.
override WORKGROUP_SIZE: u32;

struct Params {
  rows: u32,
  heads: u32,
  head_dim: u32,
  half_rotary: u32,    // R / 2
  start_position: u32,
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;    // [T, heads, head_dim] f32
@group(0) @binding(1) var<storage, read> inv_freq: array<f32>;   // [R / 2] f32
@group(0) @binding(2) var<uniform> params: Params;

// π/2 split so that k * HALF_PI_0, k * HALF_PI_1 and k * HALF_PI_2 are exact in f32 for k < 2^17
// (5, 7 and 7 significant bits), and each subtraction is exact because the operands are within a factor
// of two: the reduced angle keeps full f32 accuracy for angles up to about 2e5 radians (Cody and Waite).
const HALF_PI_0: f32 = 1.5625;
const HALF_PI_1: f32 = 0.0081787109375;
const HALF_PI_2: f32 = 0.00011730194091796875;
const HALF_PI_3: f32 = 3.1391647326017846e-7;
const TWO_OVER_PI: f32 = 0.6366197466850281;

// sin and cos of an f32 angle to about 1 ulp. WGSL only bounds the built-ins to 2^-11 absolute error on
// [-π, π], and SwiftShader is that coarse, so the kernel reduces to [-π/4, π/4] and evaluates the
// minimax polynomials of the Cephes library's sinf and cosf there.
fn sin_cos(angle: f32) -> vec2<f32> {
  let k = round(angle * TWO_OVER_PI);
  let r = (((angle - k * HALF_PI_0) - k * HALF_PI_1) - k * HALF_PI_2) - k * HALF_PI_3;
  let r2 = r * r;
  let sin_r = r + r * r2 * (-1.6666654611e-1 + r2 * (8.3321608736e-3 + r2 * -1.9515295891e-4));
  let cos_r = 1.0 - 0.5 * r2 + r2 * r2 * (4.166664568298827e-2 + r2 * (-1.388731625493765e-3 + r2 * 2.443315711809948e-5));
  // Quadrant k mod 4 maps (sin r, cos r) to (sin a, cos a).
  switch (i32(k) & 3) {
    case 0: { return vec2<f32>(sin_r, cos_r); }
    case 1: { return vec2<f32>(cos_r, -sin_r); }
    case 2: { return vec2<f32>(-sin_r, -cos_r); }
    default: { return vec2<f32>(-cos_r, sin_r); }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn rope(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let index = linear_workgroup(wid, nwg) * WORKGROUP_SIZE + lid;
  if (index >= params.rows * params.heads * params.half_rotary) { return; }
  let i = index % params.half_rotary;
  let row_head = index / params.half_rotary; // row * heads + head
  let row = row_head / params.heads;
  // The product is rounded to f32 first, as PyTorch forms the angle, and only then reduced.
  let angle = f32(params.start_position + row) * inv_freq[i];
  let sc = sin_cos(angle);
  let s = sc.x;
  let c = sc.y;
  let base = row_head * params.head_dim;
  let x1 = x[base + i];
  let x2 = x[base + i + params.half_rotary];
  x[base + i] = x1 * c - x2 * s;
  x[base + i + params.half_rotary] = x2 * c + x1 * s;
}
