/** The optional query-head range of the prefill attention ops, which lets a caller time heads one by one. */
import { checkInteger } from './kernelSupport';

export interface HeadRange {
  headStart: number;
  headCount: number;
}

/** Resolves an optional (headStart, headCount) against H heads; throws naming `op` when it leaves [0, H). */
export function checkHeadRange(op: string, numHeads: number, headStart = 0, headCount = numHeads - headStart): HeadRange {
  checkInteger(op, 'headStart', headStart, 0, numHeads);
  checkInteger(op, 'headCount', headCount, 0, numHeads - headStart);
  return { headStart, headCount };
}
