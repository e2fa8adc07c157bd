// Embedding gather: out[t, :] = table[tokens[t], :] for the tokens whose row lies in this part of a
// (possibly row-split) table; the last part also zeroes rows of tokens >= vocab so no row is left unwritten.
// Dispatch: one invocation per output element of [T, hidden], workgroups folded into 2D by workgroupGrid.
override WORKGROUP_SIZE: u32;

struct Params {
  tokens: u32,       // T
  hidden: u32,
  row_start: u32,    // first table row held by this part
  row_count: u32,    // rows held by this part
  vocab: u32,        // rows of the whole table
  zero_invalid: u32, // 1 on the last part
}

@group(0) @binding(0) var<storage, read> tokens: array<u32>;     // [T] u32
@group(0) @binding(1) var<storage, read> table: array<u32>;      // [row_count, hidden] weight dtype
@group(0) @binding(2) var<storage, read_write> out: array<f32>;  // [T, hidden] f32
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn embedding(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let index = linear_workgroup(wid, nwg) * WORKGROUP_SIZE + lid;
  if (index >= params.tokens * params.hidden) { return; }
  let t = index / params.hidden;
  let c = index % params.hidden;
  let token = tokens[t];
  if (token >= params.row_start && token - params.row_start < params.row_count) {
    let element = (token - params.row_start) * params.hidden + c;
    out[index] = weight_at(table[element / WEIGHT_ELEMENTS_PER_WORD], element);
  } else if (params.zero_invalid == 1u && token >= params.vocab) {
    out[index] = 0.0;
  }
}
