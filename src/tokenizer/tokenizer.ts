/**
 * The text tokenizer of a model: @mlc-ai/web-tokenizers (Hugging Face tokenizers compiled to
 * WebAssembly) built from tokenizer.json, plus the chat template from tokenizer_config.json.
 * The package is a UMD bundle inside an ES-module package, so it loads in the browser through
 * Vite but not through a plain Node import; Node tests cover the template and the detokenizer.
 */
import { Tokenizer } from '@mlc-ai/web-tokenizers';
import type { ModelSource } from '../model/source';
import { fetchJsonIfPresent } from '../model/source';
import { ChatTemplate, buildChatMessages, specialTokenText, type ChatMessage, type TokenizerConfig } from './chatTemplate';
import { StreamingDetokenizer } from './detokenizer';

interface AddedToken {
  id: number;
  content: string;
  special?: boolean;
}

export class TextTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    readonly template: ChatTemplate,
    /** Added tokens such as <|im_end|>, by text. */
    private readonly addedTokens: Map<string, number>,
    private readonly config: TokenizerConfig,
  ) {}

  /** Reads tokenizer.json and tokenizer_config.json from the model's source. */
  static async load(source: ModelSource, signal?: AbortSignal): Promise<TextTokenizer> {
    const json = await source.fetchBytes('tokenizer.json', undefined, signal);
    const config = ((await fetchJsonIfPresent(source, 'tokenizer_config.json')) ?? {}) as TokenizerConfig;

    const addedTokens = new Map<string, number>();
    let parsed: { added_tokens?: AddedToken[] };
    try {
      parsed = JSON.parse(new TextDecoder().decode(json)) as { added_tokens?: AddedToken[] };
    } catch (error) {
      throw new Error(`${source.name}/tokenizer.json is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
    for (const token of parsed.added_tokens ?? []) addedTokens.set(token.content, token.id);

    const tokenizer = await Tokenizer.fromJSON(json);
    return new TextTokenizer(tokenizer, new ChatTemplate(config), addedTokens, config);
  }

  encode(text: string): number[] {
    return Array.from(this.tokenizer.encode(text));
  }

  decode(ids: readonly number[]): string {
    return this.tokenizer.decode(Int32Array.from(ids));
  }

  /** Returns the id of an added token such as '<|im_end|>', or undefined when the vocabulary lacks it. */
  tokenId(text: string): number | undefined {
    return this.addedTokens.get(text);
  }

  /** Ids that end an answer: the config's eos token and the end-of-turn tokens of the common chat formats. */
  stopTokenIds(modelEosIds: readonly number[]): number[] {
    const ids = new Set(modelEosIds);
    const candidates = [specialTokenText(this.config.eos_token), '<|im_end|>', '<|endoftext|>', '<|eot_id|>', '<|end_of_text|>'];
    for (const text of candidates) {
      const id = text === undefined ? undefined : this.tokenId(text);
      if (id !== undefined) ids.add(id);
    }
    return [...ids];
  }

  /** Renders the conversation with the chat template and encodes it, ending with the assistant's generation prompt. */
  encodeChat(system: string, document: string, turns: ChatMessage[]): number[] {
    const messages = buildChatMessages(system, document, turns);
    return this.encode(this.template.render(messages, { addGenerationPrompt: true, enableThinking: false }));
  }

  detokenizer(): StreamingDetokenizer {
    return new StreamingDetokenizer((ids) => this.decode(ids));
  }

  dispose(): void {
    this.tokenizer.dispose();
  }
}
