// Value reads from an f16 KV cache (after kv_keys_f16.wgsl, which defines KvWord): v_cache is
// [Hkv, capacity, D / 2] u32 words of two halves and `pair` is the word index.

fn load_v_pair(pair: u32) -> vec2<f32> { return f16_pair(v_cache[pair]); }
