// Value reads from an f32 KV cache (after kv_keys_f32.wgsl, which defines KvWord): v_cache is
// [Hkv, capacity, D] and `pair` indexes element pairs.

fn load_v_pair(pair: u32) -> vec2<f32> { return vec2<f32>(v_cache[2u * pair], v_cache[2u * pair + 1u]); }
