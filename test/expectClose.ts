/** Tolerance of one comparison: |got - ref| <= atol + rtol * |ref|. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/**
 * Compares `got` with `ref` element by element. A NaN or infinity in `got` where the
 * reference is finite, or an element outside the tolerance, fails with the name,
 * the first bad index, the expected and the actual value, and the count of bad elements.
 */
export function expectClose(name: string, got: ArrayLike<number>, ref: ArrayLike<number>, { atol, rtol }: Tolerance): void {
  if (got.length !== ref.length) {
    throw new Error(`${name}: length ${got.length}, expected ${ref.length}`);
  }
  let bad = 0;
  let first = -1;
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    const expected = ref[i];
    const actual = got[i];
    const error = Math.abs(actual - expected);
    const ok = Number.isFinite(expected) ? Number.isFinite(actual) && error <= atol + rtol * Math.abs(expected) : Object.is(actual, expected);
    if (!ok) {
      bad++;
      if (first < 0) first = i;
    }
    if (Number.isFinite(error)) worst = Math.max(worst, error);
  }
  if (bad > 0) {
    throw new Error(
      `${name}: ${bad} of ${ref.length} elements outside atol=${atol} rtol=${rtol}; ` +
        `first at index ${first}: expected ${ref[first]}, got ${got[first]} (max abs error ${worst})`,
    );
  }
}

/** ||got - ref|| / ||ref||, the relative L2 error. */
export function relativeL2(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < ref.length; i++) {
    diff += (got[i] - ref[i]) ** 2;
    norm += ref[i] ** 2;
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-30);
}
