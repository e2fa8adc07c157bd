// KV cache writes for an f16 cache packed two per u32: the kernel declares k_cache and
// v_cache as array<KvWord> of shape [Hkv, capacity, D / 2]; `pair` is the word index.
// pack2x16float rounds to nearest even, as the TypeScript f32ToF16 does.

alias KvWord = u32;

fn store_kv_pair(pair: u32, key: vec2<f32>, value: vec2<f32>) {
  k_cache[pair] = pack_f16_pair(key);
  v_cache[pair] = pack_f16_pair(value);
}
