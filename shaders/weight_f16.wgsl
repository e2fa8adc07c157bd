// Weight access for f16 storage: two elements per u32 word, low half first, widened without shader-f16.
// Kernels bind weights as array<u32> and read element i as weight_at(words[i / WEIGHT_ELEMENTS_PER_WORD], i).
const WEIGHT_ELEMENTS_PER_WORD: u32 = 2u;
fn weight_at(word: u32, index: u32) -> f32 { return f16_at(word, index); }
