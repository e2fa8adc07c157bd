/**
 * Needle-in-a-haystack prompts with one needle, in the style of RULER's niah_single task (Hsieh et al.,
 * "RULER: What's the Real Context Size of Your Long-Context Language Models?", 2024): a seeded filler
 * text, one sentence "The special magic number for <key> is: <7-digit number>." inserted at a chosen
 * depth, and a question asking for that number. The prompt is sized to a requested token count with
 * the caller's tokenizer, so the same generator serves the app (the model's tokenizer) and Node tests.
 *
 * The filler comes from word lists and sentence templates in this file. The key words come from lists
 * disjoint from the filler's, and the filler has no digits, so the key and the number occur once.
 */
import { Random } from '../util/random';

/** Token counter of the target model, for example `(text) => tokenizer.encode(text).length`. */
export type CountTokens = (text: string) => number;

export interface NeedleOptions {
  /** Requested prompt length in tokens, as `countTokens` counts the whole prompt. */
  targetTokens: number;
  /** Share of the filler before the needle, from 0 (first sentence) to 1 (after the last). */
  depth: number;
  seed: number;
  countTokens: CountTokens;
  /** Largest accepted |tokens - targetTokens| / targetTokens; default 0.01. */
  tolerance?: number;
}

export interface NeedlePrompt {
  /** context + "\n\n" + question: the whole user message. */
  prompt: string;
  /** The instruction and the filler with the needle. */
  context: string;
  /** The question asking for the number. */
  question: string;
  /** The needle sentence, as it occurs once in `context`. */
  needle: string;
  /** The key the question names, such as "amber-falcon". */
  key: string;
  /** The expected answer: a 7-digit number as a string, without a leading zero. */
  answer: string;
  /** countTokens(prompt). */
  tokenCount: number;
  /** Filler sentences before the needle over all filler sentences: the depth the needle really sits at. */
  depth: number;
  /** Character offset of the needle in `prompt`. */
  needleOffset: number;
}

const INSTRUCTION =
  'A special magic number is hidden somewhere in the long text below. Read the text carefully, ' +
  'because you will be asked for that number at the end.';

// Filler vocabulary. None of these words is a key word, and none contains a digit.
const SUBJECTS = [
  'the old miller', 'a tired traveller', 'the village baker', 'a young shepherd', 'the ferryman',
  'a quiet librarian', 'the weaver', 'a curious child', 'the night watchman', 'a wandering poet',
  'the harbour master', 'a retired sailor', 'the potter', 'a patient gardener', 'the blacksmith',
  'a market trader', 'the schoolteacher', 'a stray dog', 'the carpenter', 'a travelling musician',
];
const VERBS = [
  'carried', 'painted', 'repaired', 'counted', 'watched', 'described', 'collected', 'folded',
  'measured', 'polished', 'sorted', 'remembered', 'followed', 'admired', 'borrowed', 'cleaned',
];
const OBJECTS = [
  'a basket of pears', 'the wooden fence', 'an old map', 'the church bells', 'a pile of letters',
  'the garden gate', 'a bundle of reeds', 'the kitchen table', 'a row of lanterns', 'the stone bridge',
  'a jar of honey', 'the fishing nets', 'a crate of apples', 'the tall hedges', 'a stack of blankets',
  'the narrow staircase', 'a set of keys', 'the broken cart', 'a loaf of bread', 'the window shutters',
];
const PLACES = [
  'near the river', 'behind the mill', 'in the square', 'by the harbour', 'on the hill', 'at the crossroads',
  'under the oak trees', 'beside the well', 'along the canal', 'inside the barn', 'past the orchard',
  'at the edge of the forest', 'by the chapel', 'on the pier', 'in the courtyard', 'across the meadow',
];
const TIMES = [
  'in the early morning', 'before the rain came', 'after the market closed', 'late in the evening',
  'during the long summer', 'on a cold afternoon', 'while the kettle boiled', 'as the sun went down',
  'once the fog lifted', 'on the first day of spring', 'before anyone woke', 'after the festival',
];
const MOODS = ['calm', 'cheerful', 'thoughtful', 'weary', 'hopeful', 'careful', 'restless', 'content', 'proud', 'gentle'];
const WEATHER = [
  'The wind was soft', 'The sky was grey', 'A light rain fell', 'The air smelled of smoke', 'The streets were empty',
  'The bells rang twice', 'The tide was low', 'Snow covered the roofs', 'The lamps were lit', 'Birds sang in the eaves',
];
const TEMPLATES: ((pick: <T>(list: readonly T[]) => T) => string)[] = [
  (pick) => `${capitalise(pick(SUBJECTS))} ${pick(VERBS)} ${pick(OBJECTS)} ${pick(PLACES)} ${pick(TIMES)}.`,
  (pick) => `${capitalise(pick(TIMES))}, ${pick(SUBJECTS)} ${pick(VERBS)} ${pick(OBJECTS)}.`,
  (pick) => `${pick(WEATHER)}, and ${pick(SUBJECTS)} felt ${pick(MOODS)} ${pick(PLACES)}.`,
  (pick) => `Nobody knew why ${pick(SUBJECTS)} ${pick(VERBS)} ${pick(OBJECTS)} ${pick(TIMES)}.`,
  (pick) => `${pick(WEATHER)} ${pick(TIMES)}, so ${pick(SUBJECTS)} stayed ${pick(PLACES)}.`,
  (pick) => `${capitalise(pick(SUBJECTS))} and ${pick(SUBJECTS)} ${pick(VERBS)} ${pick(OBJECTS)} together.`,
  (pick) => `It was said that ${pick(SUBJECTS)} was ${pick(MOODS)} whenever ${pick(WEATHER).toLowerCase()}.`,
];

// Key vocabulary, disjoint from the filler's words.
const KEY_ADJECTIVES = ['amber', 'brisk', 'crimson', 'dusky', 'electric', 'frosty', 'golden', 'hollow', 'ivory', 'jagged', 'lunar', 'misty', 'noble', 'opal', 'rapid', 'silent', 'tawny', 'velvet', 'wild', 'zesty'];
const KEY_NOUNS = ['falcon', 'glacier', 'lantern', 'meteor', 'otter', 'prism', 'quartz', 'raven', 'saddle', 'tundra', 'violin', 'walrus', 'yacht', 'zephyr', 'anvil', 'beacon', 'comet', 'dune', 'ember', 'fjord'];

/** Words used by the filler text, for tests that check the key never occurs in it. */
export const FILLER_VOCABULARY: readonly string[] = [...SUBJECTS, ...VERBS, ...OBJECTS, ...PLACES, ...TIMES, ...MOODS, ...WEATHER];
export const KEY_VOCABULARY: readonly string[] = [...KEY_ADJECTIVES, ...KEY_NOUNS];

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Generates `count` filler sentences from a seed; consecutive sentences never repeat each other. */
export function fillerSentences(seed: number, count: number): string[] {
  const random = new Random(seed);
  const pick = <T>(list: readonly T[]): T => list[random.int(list.length)];
  const sentences: string[] = [];
  while (sentences.length < count) {
    const sentence = TEMPLATES[random.int(TEMPLATES.length)](pick);
    if (sentence !== sentences[sentences.length - 1]) sentences.push(sentence);
  }
  return sentences;
}

export function needleSentence(key: string, answer: string): string {
  return `The special magic number for ${key} is: ${answer}.`;
}

export function needleQuestion(key: string): string {
  return `What is the special magic number for ${key} in the text above? Answer with the 7-digit number only.`;
}

interface Assembled {
  prompt: string;
  context: string;
  needleOffset: number;
  sentencesBefore: number;
}

/** The first `words` words of a sentence, closed with a period. */
function truncateSentence(sentence: string, words: number): string {
  const keptWords = sentence.split(' ').slice(0, words).join(' ');
  return keptWords.replace(/[.,]$/, '') + '.';
}

/**
 * Joins the instruction, the filler, and the question. The filler is the first `count` sentences plus,
 * when `partialWords` > 0, the first words of the next one; the needle goes after sentence
 * round(depth · count).
 */
function assemble(sentences: string[], count: number, partialWords: number, depth: number, needle: string, question: string): Assembled {
  const filler = sentences.slice(0, count);
  if (partialWords > 0) filler.push(truncateSentence(sentences[count], partialWords));
  const sentencesBefore = Math.round(depth * count);
  const before = filler.slice(0, sentencesBefore).join(' ');
  const after = filler.slice(sentencesBefore).join(' ');
  const head = `${INSTRUCTION}\n\n${before}${before ? ' ' : ''}`;
  const context = `${head}${needle}${after ? ' ' : ''}${after}`;
  return { prompt: `${context}\n\n${question}`, context, needleOffset: head.length, sentencesBefore };
}

/** Largest integer x in [low, high] with fits(x), assuming fits is monotone; low - 1 when none fits. */
function largestFitting(low: number, high: number, fits: (x: number) => boolean): number {
  let lo = low - 1;
  let hi = high;
  while (lo < hi) {
    const middle = lo + Math.ceil((hi - lo) / 2);
    if (fits(middle)) lo = middle;
    else hi = middle - 1;
  }
  return lo;
}

/**
 * Builds a prompt of targetTokens tokens (within the tolerance) with the needle at the requested
 * depth. The filler length is found by binary search, first on whole sentences and then on the words
 * of one more, truncated, sentence, so countTokens runs about log2(targetTokens) + 4 times. Throws
 * when no filler length lands within the tolerance, for example for a target shorter than the
 * instruction, the needle and the question.
 */
export function generateNeedlePrompt(options: NeedleOptions): NeedlePrompt {
  const op = 'generateNeedlePrompt';
  const { targetTokens, depth, seed, countTokens } = options;
  const tolerance = options.tolerance ?? 0.01;
  if (!Number.isInteger(targetTokens) || targetTokens < 1) throw new Error(`${op}: targetTokens ${targetTokens} must be a positive integer`);
  if (!(depth >= 0 && depth <= 1)) throw new Error(`${op}: depth ${depth} must be within [0, 1]`);
  if (!(tolerance >= 0)) throw new Error(`${op}: tolerance ${tolerance} must be >= 0`);

  const random = new Random(seed);
  const key = `${KEY_ADJECTIVES[random.int(KEY_ADJECTIVES.length)]}-${KEY_NOUNS[random.int(KEY_NOUNS.length)]}`;
  const answer = String(1_000_000 + random.int(9_000_000));
  const needle = needleSentence(key, answer);
  const question = needleQuestion(key);

  // A filler sentence is at least 5 tokens, so targetTokens / 5 sentences always reach the target.
  const sentences = fillerSentences(seed ^ 0x5bd1e995, Math.ceil(targetTokens / 5) + 2);
  const tokensOf = (count: number, partialWords: number) => countTokens(assemble(sentences, count, partialWords, depth, needle, question).prompt);

  // Whole sentences: the largest count that fits. Then the words of the next sentence: the largest
  // prefix that fits, and the closer of it and one word more.
  const count = Math.max(0, largestFitting(0, sentences.length - 1, (c) => tokensOf(c, 0) <= targetTokens));
  const nextWords = sentences[count].split(' ').length;
  let partialWords = Math.max(0, largestFitting(0, nextWords - 1, (w) => tokensOf(count, w) <= targetTokens));
  let tokenCount = tokensOf(count, partialWords);
  const longer = tokensOf(count, partialWords + 1);
  if (Math.abs(longer - targetTokens) < Math.abs(tokenCount - targetTokens)) {
    partialWords += 1;
    tokenCount = longer;
  }
  if (Math.abs(tokenCount - targetTokens) > tolerance * targetTokens) {
    throw new Error(
      `${op}: the closest prompt has ${tokenCount} tokens (with ${count} filler sentences), more than ${tolerance * 100}% ` +
        `away from the requested ${targetTokens}; request a longer prompt or a larger tolerance`,
    );
  }

  const assembled = assemble(sentences, count, partialWords, depth, needle, question);
  return {
    prompt: assembled.prompt,
    context: assembled.context,
    question,
    needle,
    key,
    answer,
    tokenCount,
    depth: count > 0 ? assembled.sentencesBefore / count : depth,
    needleOffset: assembled.needleOffset,
  };
}

/**
 * Scores a model's answer by string match: 1 when the expected number occurs in the answer as a
 * whole number (not inside a longer run of digits), else 0.
 */
export function scoreNeedle(answer: string, expected: string): 0 | 1 {
  if (!/^\d+$/.test(expected)) throw new Error(`scoreNeedle: expected answer ${JSON.stringify(expected)} must be digits only`);
  return new RegExp(`(?<!\\d)${expected}(?!\\d)`).test(answer) ? 1 : 0;
}
