import { describe, expect, it } from 'vitest';
import { StreamingDetokenizer, type DecodeFn } from './detokenizer';

/** A byte-level vocabulary: token id = one UTF-8 byte, decoded with replacement characters like a BPE decoder. */
const decodeBytes: DecodeFn = (ids) => new TextDecoder('utf-8', { fatal: false }).decode(Uint8Array.from(ids));

function streamAll(text: string): string[] {
  const detokenizer = new StreamingDetokenizer(decodeBytes);
  return Array.from(new TextEncoder().encode(text), (byte) => detokenizer.push(byte));
}

describe('StreamingDetokenizer', () => {
  it('streams ASCII one character per token', () => {
    expect(streamAll('abc')).toEqual(['a', 'b', 'c']);
  });

  it('holds a multi-byte character until its last byte', () => {
    // 'é' is 2 bytes, '漢' is 3 bytes and '🙂' is 4 bytes in UTF-8.
    const deltas = streamAll('é漢🙂!');

    expect(deltas).toEqual(['', 'é', '', '', '漢', '', '', '', '🙂', '!']);
  });

  it('concatenates to the full text for mixed input', () => {
    const text = 'Long documents: naïve café, 東京, emoji 👍🏽 and more text.';
    const detokenizer = new StreamingDetokenizer(decodeBytes);
    let streamed = '';
    for (const byte of new TextEncoder().encode(text)) streamed += detokenizer.push(byte);

    expect(streamed).toBe(text);
    expect(detokenizer.text).toBe(text);
  });

  it('flushes a truncated character as a replacement character', () => {
    const detokenizer = new StreamingDetokenizer(decodeBytes);
    const bytes = new TextEncoder().encode('a漢');
    detokenizer.push(bytes[0]);
    detokenizer.push(bytes[1]);

    expect(detokenizer.flush()).toBe('\uFFFD');
    expect(detokenizer.text).toBe('a\uFFFD');
  });

  it('keeps a space that depends on the previous token', () => {
    // A SentencePiece-like decoder drops the leading space of the first token only.
    const vocabulary = ['▁Hello', '▁world'];
    const decode: DecodeFn = (ids) => ids.map((id) => vocabulary[id]).join('').replaceAll('▁', ' ').replace(/^ /, '');
    const detokenizer = new StreamingDetokenizer(decode);

    expect([detokenizer.push(0), detokenizer.push(1)]).toEqual(['Hello', ' world']);
  });
});
