// Appends `rows` new key and value rows to one layer's KV cache at positions start .. start + rows - 1.
// k, v: [T, Hkv, D] f32, first `rows` rows read; k_cache, v_cache: [Hkv, capacity, D] as KvWord
// (f32, or f16 pairs from kv_store_f16.wgsl). One thread per element pair; 2D grid from workgroupGrid.

struct Params {
  rows: u32,
  start: u32,
  num_kv_heads: u32,
  half_dim: u32,   // D / 2
  capacity: u32,
}

override WORKGROUP_SIZE: u32;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> k: array<f32>;                 // [T, Hkv, D] f32
@group(0) @binding(2) var<storage, read> v: array<f32>;                 // [T, Hkv, D] f32
@group(0) @binding(3) var<storage, read_write> k_cache: array<KvWord>;  // [Hkv, capacity, D] f32 or f16 pairs
@group(0) @binding(4) var<storage, read_write> v_cache: array<KvWord>;  // [Hkv, capacity, D] f32 or f16 pairs

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) local_index: u32) {
  let index = linear_workgroup(wid, nwg) * WORKGROUP_SIZE + local_index;
  let total = params.rows * params.num_kv_heads * params.half_dim;
  if (index >= total) {
    return;
  }
  // index walks the source layout [row, kv_head, pair].
  let pair = index % params.half_dim;
  let row_head = index / params.half_dim;
  let kv_head = row_head % params.num_kv_heads;
  let row = row_head / params.num_kv_heads;

  let key = vec2<f32>(k[2u * index], k[2u * index + 1u]);
  let value = vec2<f32>(v[2u * index], v[2u * index + 1u]);
  let cache_pair = (kv_head * params.capacity + params.start + row) * params.half_dim + pair;
  store_kv_pair(cache_pair, key, value);
}
