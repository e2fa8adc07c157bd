// Weight access for f32 storage: one element per u32 word, reinterpreted as f32.
// Kernels bind weights as array<u32> and read element i as weight_at(words[i / WEIGHT_ELEMENTS_PER_WORD], i).
const WEIGHT_ELEMENTS_PER_WORD: u32 = 1u;
fn weight_at(word: u32, _index: u32) -> f32 { return bitcast<f32>(word); }
