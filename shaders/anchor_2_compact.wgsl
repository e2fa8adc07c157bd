// AnchorAttention step 2c: compacts the selected candidates into a sorted key list per head. Each block
// starts at the sum of the earlier blocks' counts and places its keys by an exclusive scan of its flags.
// flags: [H, C] u32; block_counts: [H, blocks] u32; indices: [H, C] u32 (first counts[h] valid); counts: [H] u32.
// Grid: (blocks, H), WORKGROUP_SIZE threads (the block size of anchor_2_select.wgsl).

struct Params {
  candidate_start: u32,
  candidate_count: u32,   // C, also the row length of indices
  num_heads: u32,         // heads of the dispatch (Hc)
  num_blocks: u32,
}

override WORKGROUP_SIZE: u32;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> flags: array<u32>;                 // [H, C] u32
@group(0) @binding(2) var<storage, read> block_counts: array<u32>;          // [H, blocks] u32
@group(0) @binding(3) var<storage, read_write> indices: array<u32>;         // [H, C] u32
@group(0) @binding(4) var<storage, read_write> counts: array<u32>;          // [H] u32

var<workgroup> scan: array<u32, WORKGROUP_SIZE>;   // [WORKGROUP_SIZE] inclusive prefix sums of the flags

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) local_index: u32) {
  let block = wid.x;
  let head = wid.y;
  // Whole-workgroup exit only: the scan has barriers, so threads past C stay in with flag 0.
  if (block >= params.num_blocks || head >= params.num_heads) {
    return;
  }
  var offset = 0u;
  for (var b = 0u; b < block; b++) {
    offset += block_counts[head * params.num_blocks + b];
  }
  let candidate = block * WORKGROUP_SIZE + local_index;
  var flag = 0u;
  if (candidate < params.candidate_count) {
    flag = flags[head * params.candidate_count + candidate];
  }

  // Inclusive Hillis-Steele scan: read, barrier, add, barrier at every stride.
  scan[local_index] = flag;
  workgroupBarrier();
  for (var stride = 1u; stride < WORKGROUP_SIZE; stride *= 2u) {
    var addend = 0u;
    if (local_index >= stride) {
      addend = scan[local_index - stride];
    }
    workgroupBarrier();
    scan[local_index] += addend;
    workgroupBarrier();
  }

  if (flag == 1u) {
    indices[head * params.candidate_count + offset + scan[local_index] - 1u] = params.candidate_start + candidate;
  }
  if (block == params.num_blocks - 1u && local_index == 0u) {
    counts[head] = offset + scan[WORKGROUP_SIZE - 1u];
  }
}
