// Key reads from an f32 KV cache: the kernel declares k_cache as array<KvWord> of shape
// [Hkv, capacity, D]. `pair` indexes element pairs (2·pair, 2·pair + 1), so one kernel body
// serves both cache dtypes because D is even.

alias KvWord = f32;

fn load_k_pair(pair: u32) -> vec2<f32> { return vec2<f32>(k_cache[2u * pair], k_cache[2u * pair + 1u]); }
