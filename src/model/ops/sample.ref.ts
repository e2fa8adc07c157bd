/** Sampling options: temperature 0 is greedy, topK 0 and topP 1 turn those filters off. */
export interface SampleOptions {
  temperature: number;
  topK: number;
  topP: number;
  /** Uniform random number in [0, 1) that picks the token. */
  uniform: number;
}

export interface SampleReferenceResult {
  token: number;
  /** 1 where the token survives top-k and top-p (every token for greedy with a unique max). */
  kept: Uint8Array;
  /** Unnormalised probability exp((logit - max) / temperature) of each kept token, 0 elsewhere. */
  mass: Float64Array;
  /** The running kept mass at which the token is chosen: uniform * sum(mass). */
  target: number;
}

/**
 * Sampling in f64 with plain loops, with Hugging Face's semantics up to ties:
 * logits (V,) -> softmax(logits / temperature), top-k keeps logits >= the k-th largest,
 * top-p keeps tokens whose strictly larger logits hold less than topP of the top-k mass,
 * and the token is the first index where the running kept mass exceeds uniform * total.
 */
export function sampleReference(logits: Float32Array, { temperature, topK, topP, uniform }: SampleOptions): SampleReferenceResult {
  const vocab = logits.length;
  let maxIndex = 0;
  for (let v = 1; v < vocab; v++) if (logits[v] > logits[maxIndex]) maxIndex = v;
  const maxLogit = logits[maxIndex];
  const kept = new Uint8Array(vocab);
  const mass = new Float64Array(vocab);
  if (temperature === 0) {
    kept[maxIndex] = 1;
    mass[maxIndex] = 1;
    return { token: maxIndex, kept, mass, target: 0 };
  }

  // Pass 1: top-k threshold, the k-th largest logit.
  const sorted = Float64Array.from(logits).sort().reverse();
  let threshold = topK > 0 && topK < vocab ? sorted[topK - 1] : -Infinity;
  const probability = (v: number) => Math.exp((logits[v] - maxLogit) / temperature);
  let keptMassK = 0;
  for (let v = 0; v < vocab; v++) if (logits[v] >= threshold) keptMassK += probability(v);

  // Pass 2: top-p threshold, walking distinct logits from the largest down.
  if (topP < 1) {
    const massByValue = new Map<number, number>();
    for (let v = 0; v < vocab; v++) {
      if (logits[v] >= threshold) massByValue.set(logits[v], (massByValue.get(logits[v]) ?? 0) + probability(v));
    }
    const values = [...massByValue.keys()].sort((a, b) => b - a);
    let above = 0;
    threshold = values[0];
    for (const value of values) {
      if (!(above < topP * keptMassK)) break;
      threshold = value;
      above += massByValue.get(value)!;
    }
  }

  // Pass 3: the first index whose running kept mass passes uniform * total.
  let total = 0;
  for (let v = 0; v < vocab; v++) {
    if (logits[v] >= threshold) {
      kept[v] = 1;
      mass[v] = probability(v);
      total += mass[v];
    }
  }
  const target = uniform * total;
  let running = 0;
  let token = -1;
  let lastKept = -1;
  for (let v = 0; v < vocab; v++) {
    if (!kept[v]) continue;
    if (token < 0 && running + mass[v] > target) token = v;
    running += mass[v];
    lastKept = v;
  }
  return { token: token < 0 ? lastKept : token, kept, mass, target };
}
