/**
 * Streams decoded text one token at a time. Byte-level BPE splits a multi-byte character
 * across tokens, and decoding such a partial sequence yields U+FFFD, so text is emitted only
 * once the window decodes cleanly. Decoding a short window that starts a few tokens back,
 * instead of only the new token, also keeps the spaces and merges that depend on the
 * preceding token.
 */
export type DecodeFn = (ids: readonly number[]) => string;

const REPLACEMENT_CHARACTER = '\uFFFD';

/** Tokens decoded before the newest ones, so that a token's leading space is rendered correctly. */
const CONTEXT_TOKENS = 4;

export class StreamingDetokenizer {
  private readonly ids: number[] = [];
  /** Start of the window whose text is already emitted up to `readOffset`. */
  private prefixOffset = 0;
  /** First token whose text has not been emitted yet. */
  private readOffset = 0;
  private emitted = '';

  constructor(private readonly decode: DecodeFn) {}

  /** Adds one token and returns the text it completes, which is empty while a character is still partial. */
  push(id: number): string {
    this.ids.push(id);
    const prefixText = this.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const windowText = this.decode(this.ids.slice(this.prefixOffset));
    if (windowText.length <= prefixText.length || windowText.endsWith(REPLACEMENT_CHARACTER)) return '';

    const delta = windowText.slice(prefixText.length);
    this.readOffset = this.ids.length;
    this.prefixOffset = Math.max(0, this.readOffset - CONTEXT_TOKENS);
    this.emitted += delta;
    return delta;
  }

  /** Returns the text still held back (a character cut off at the end), decoded with replacement characters. */
  flush(): string {
    if (this.readOffset === this.ids.length) return '';
    const prefixText = this.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const windowText = this.decode(this.ids.slice(this.prefixOffset));
    const delta = windowText.slice(prefixText.length);
    this.readOffset = this.ids.length;
    this.emitted += delta;
    return delta;
  }

  /** All text emitted so far. */
  get text(): string {
    return this.emitted;
  }
}
