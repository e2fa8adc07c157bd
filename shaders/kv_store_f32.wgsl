// KV cache writes for an f32 cache: the kernel declares k_cache and v_cache as
// array<KvWord> of shape [Hkv, capacity, D]; `pair` indexes elements (2·pair, 2·pair + 1).

alias KvWord = f32;

fn store_kv_pair(pair: u32, key: vec2<f32>, value: vec2<f32>) {
  k_cache[2u * pair] = key.x;
  k_cache[2u * pair + 1u] = key.y;
  v_cache[2u * pair] = value.x;
  v_cache[2u * pair + 1u] = value.y;
}
