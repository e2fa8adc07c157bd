// Key reads from an f16 KV cache packed two per u32 (low half first): the kernel declares
// k_cache as array<KvWord> of shape [Hkv, capacity, D / 2]. `pair` is the word index.

alias KvWord = u32;

fn load_k_pair(pair: u32) -> vec2<f32> { return f16_pair(k_cache[pair]); }
