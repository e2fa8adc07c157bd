// Shared helpers prepended to every kernel by composeShader(): 16-bit unpacking and
// the linear workgroup index of a 2D dispatch grid (see workgroupGrid in src/gpu/dispatch.ts).

// bf16 is the high half of an f32, so widening is a shift. Low half of the word first.
fn bf16_lo(word: u32) -> f32 { return bitcast<f32>(word << 16u); }
fn bf16_hi(word: u32) -> f32 { return bitcast<f32>(word & 0xffff0000u); }
fn bf16_pair(word: u32) -> vec2<f32> { return vec2<f32>(bf16_lo(word), bf16_hi(word)); }

// f16 pairs widen with the core built-in; no shader-f16 feature is needed.
fn f16_pair(word: u32) -> vec2<f32> { return unpack2x16float(word); }
fn pack_f16_pair(v: vec2<f32>) -> u32 { return pack2x16float(v); }

// Element `i` of a packed 16-bit array given the u32 word that contains it.
fn bf16_at(word: u32, i: u32) -> f32 { return select(bf16_lo(word), bf16_hi(word), (i & 1u) == 1u); }
fn f16_at(word: u32, i: u32) -> f32 { let pair = unpack2x16float(word); return select(pair.x, pair.y, (i & 1u) == 1u); }

fn linear_workgroup(wid: vec3<u32>, nwg: vec3<u32>) -> u32 { return wid.x + wid.y * nwg.x; }
