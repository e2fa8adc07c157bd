// RMSNorm over each run of n consecutive elements, in f32 as Hugging Face computes it:
// out = x * inverseSqrt(mean(x^2) + eps) * weight. Entry points: rms_norm writes out, rms_norm_in_place writes x.
// Dispatch: one workgroup per run (runs = elements / n), workgroups folded into 2D by workgroupGrid.
override WORKGROUP_SIZE: u32; // a power of two, for the tree reduction

struct Params {
  runs: u32,
  n: u32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;   // [runs, n] f32; read_write for the in-place entry point
@group(0) @binding(1) var<storage, read> weight: array<u32>;    // [n] weight dtype
@group(0) @binding(2) var<uniform> params: Params;
@group(0) @binding(3) var<storage, read_write> out: array<f32>; // [runs, n] f32; rms_norm only

var<workgroup> partial_sums: array<f32, WORKGROUP_SIZE>;

// Returns 1 / rms of the run starting at `base`; every invocation of the workgroup must call it.
fn inverse_rms(base: u32, lid: u32) -> f32 {
  var sum = 0.0;
  for (var i = lid; i < params.n; i += WORKGROUP_SIZE) {
    let value = x[base + i];
    sum += value * value;
  }
  partial_sums[lid] = sum;
  workgroupBarrier();
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) { partial_sums[lid] += partial_sums[lid + stride]; }
    workgroupBarrier();
  }
  return inverseSqrt(partial_sums[0] / f32(params.n) + params.eps);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn rms_norm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let run = linear_workgroup(wid, nwg);
  if (run >= params.runs) { return; }
  let base = run * params.n;
  let scale = inverse_rms(base, lid);
  for (var i = lid; i < params.n; i += WORKGROUP_SIZE) {
    out[base + i] = x[base + i] * scale * weight_at(weight[i / WEIGHT_ELEMENTS_PER_WORD], i);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn rms_norm_in_place(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let run = linear_workgroup(wid, nwg);
  if (run >= params.runs) { return; }
  let base = run * params.n;
  let scale = inverse_rms(base, lid);
  // Every read of x for the sum happened before the last barrier in inverse_rms, so overwriting is safe.
  for (var i = lid; i < params.n; i += WORKGROUP_SIZE) {
    x[base + i] = x[base + i] * scale * weight_at(weight[i / WEIGHT_ELEMENTS_PER_WORD], i);
  }
}
