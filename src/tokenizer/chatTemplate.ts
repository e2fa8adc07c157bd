/**
 * The model's chat template from tokenizer_config.json, rendered with @huggingface/jinja.
 * A conversation is rendered whole on every turn, so consecutive prompts share their token
 * prefix and the model reuses its KV cache for everything before the newest question.
 */
import { Template } from '@huggingface/jinja';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/**
 * ChatML, the format Qwen models use, for a tokenizer_config.json without a chat_template.
 * It accepts any role order, so it never rejects a conversation the app builds.
 */
export const CHATML_TEMPLATE =
  "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

export const DEFAULT_SYSTEM_PROMPT =
  'You are a helpful assistant. Answer questions about the document the user provides, using only its content.';

/** The fields of tokenizer_config.json that rendering reads; special tokens may be strings or AddedToken objects. */
export interface TokenizerConfig {
  chat_template?: string | { name: string; template: string }[];
  bos_token?: string | { content: string } | null;
  eos_token?: string | { content: string } | null;
  pad_token?: string | { content: string } | null;
  [key: string]: unknown;
}

export function specialTokenText(token: TokenizerConfig['bos_token']): string | undefined {
  if (token === null || token === undefined) return undefined;
  return typeof token === 'string' ? token : token.content;
}

/** Picks the template named 'default' when tokenizer_config.json lists several. */
function selectTemplate(config: TokenizerConfig): string {
  const template = config.chat_template;
  if (template === undefined) return CHATML_TEMPLATE;
  if (typeof template === 'string') return template;
  const named = template.find((entry) => entry.name === 'default') ?? template[0];
  if (!named) throw new Error('tokenizer_config.json has an empty chat_template list');
  return named.template;
}

export interface RenderOptions {
  addGenerationPrompt: boolean;
  /**
   * Passed to templates that read `enable_thinking` (Qwen3). False asks for a direct answer
   * with an empty reasoning block; templates without the variable ignore it.
   */
  enableThinking?: boolean;
}

export class ChatTemplate {
  readonly source: string;
  private readonly template: Template;
  private readonly bosToken: string;
  private readonly eosToken: string;

  constructor(config: TokenizerConfig) {
    this.source = selectTemplate(config);
    try {
      this.template = new Template(this.source);
    } catch (error) {
      throw new Error(`The chat_template in tokenizer_config.json could not be parsed: ${(error as Error).message}`, { cause: error });
    }
    this.bosToken = specialTokenText(config.bos_token) ?? '';
    this.eosToken = specialTokenText(config.eos_token) ?? '';
  }

  render(messages: ChatMessage[], options: RenderOptions): string {
    const variables: Record<string, unknown> = {
      messages,
      add_generation_prompt: options.addGenerationPrompt,
      bos_token: this.bosToken,
      eos_token: this.eosToken,
    };
    if (options.enableThinking !== undefined) variables.enable_thinking = options.enableThinking;
    try {
      return this.template.render(variables);
    } catch (error) {
      throw new Error(`Rendering the chat template failed: ${(error as Error).message}`, { cause: error });
    }
  }
}

/**
 * Builds the message list [system, user(document + first question), assistant, user, ...].
 * The document comes before the question so that a new question about the same document,
 * even after a reset, shares the document's tokens with the cached prompt.
 */
export function buildChatMessages(system: string, document: string, turns: ChatMessage[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (system.trim() !== '') messages.push({ role: 'system', content: system });
  turns.forEach((turn, index) => {
    if (turn.role !== (index % 2 === 0 ? 'user' : 'assistant')) {
      throw new Error(`Chat turn ${index} has role '${turn.role}', but turns must alternate user, assistant, user, ...`);
    }
    const isFirstQuestion = index === 0;
    const content = isFirstQuestion && document.trim() !== '' ? `${document.trim()}\n\n${turn.content}` : turn.content;
    messages.push({ role: turn.role, content });
  });
  return messages;
}
