/** Conversions between f32 and the 16-bit storage types, matching the WGSL unpacking in shaders/common.wgsl. */

const f32View = new Float32Array(1);
const u32View = new Uint32Array(f32View.buffer);

/** f32 to bf16 bits with round-to-nearest-even, as PyTorch's .to(torch.bfloat16) does. */
export function f32ToBf16(value: number): number {
  f32View[0] = value;
  const bits = u32View[0];
  if ((bits & 0x7fffffff) > 0x7f800000) return 0x7fc0; // NaN stays a quiet NaN
  const rounding = 0x7fff + ((bits >>> 16) & 1);
  return ((bits + rounding) >>> 16) & 0xffff;
}

export function bf16ToF32(bits: number): number {
  u32View[0] = (bits & 0xffff) << 16;
  return f32View[0];
}

/** f32 to IEEE half bits with round-to-nearest-even, overflow to infinity. */
export function f32ToF16(value: number): number {
  f32View[0] = value;
  const bits = u32View[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - halfExponent;
    let half = mantissa >>> shift;
    const remainder = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (remainder > halfway || (remainder === halfway && (half & 1))) half++;
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  if (remainder > 0x1000 || (remainder === 0x1000 && (half & 1))) half++;
  return sign | half;
}

export function f16ToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Encodes f32 values as packed 16-bit storage (`bf16` or `f16`), two per u32, low half first. */
export function encode16(values: Float32Array, dtype: 'bf16' | 'f16'): Uint16Array {
  const out = new Uint16Array(values.length);
  const convert = dtype === 'bf16' ? f32ToBf16 : f32ToF16;
  for (let i = 0; i < values.length; i++) out[i] = convert(values[i]);
  return out;
}

/** Decodes packed 16-bit storage back to f32. */
export function decode16(bits: Uint16Array, dtype: 'bf16' | 'f16'): Float32Array {
  const out = new Float32Array(bits.length);
  const convert = dtype === 'bf16' ? bf16ToF32 : f16ToF32;
  for (let i = 0; i < bits.length; i++) out[i] = convert(bits[i]);
  return out;
}
