// Access to 8-bit quantized weights (see quantize_q8.wgsl), included by matmul_q8_v1_tiled.wgsl and
// matvec_q8.wgsl: row o of a part starts at word o * words_per_row, element k of a row is byte k % 4 of
// word k / 4 (low byte first, two's complement), and its scale is scales[o * groups_per_row + k / group_size].

// Signed byte `byte` (0..3) of `word`, widened exactly to f32 by an arithmetic shift.
fn q8_byte(word: u32, byte: u32) -> f32 { return f32(bitcast<i32>(word << (24u - 8u * byte)) >> 24u); }

// All four signed bytes of `word`, element 4i + j in component j.
fn q8_word(word: u32) -> vec4<f32> { return vec4<f32>(q8_byte(word, 0u), q8_byte(word, 1u), q8_byte(word, 2u), q8_byte(word, 3u)); }
