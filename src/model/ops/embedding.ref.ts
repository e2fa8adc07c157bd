/**
 * Embedding gather, plain loops.
 * tokens: (T,) token ids; table: (V, C) row-major; returns out (T, C). Tokens >= V give zero rows.
 */
export function embeddingReference(tokens: Uint32Array, table: Float32Array, vocab: number, hidden: number): Float32Array {
  const out = new Float32Array(tokens.length * hidden);
  for (let t = 0; t < tokens.length; t++) {
    const token = tokens[t];
    if (token >= vocab) continue;
    const table_v = token * hidden;
    const out_t = t * hidden;
    for (let c = 0; c < hidden; c++) out[out_t + c] = table[table_v + c];
  }
  return out;
}
