import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { modelFromEnv, openAiCompatibleModel, standInModel, tokensOf } from './llm.ts';

describe('the stand-in model', () => {
  it('answers the same prompt the same way, with usage counted from the text at list prices', async () => {
    const model = standInModel();
    const ask = { system: 'Draft a reply. Be kind.', prompt: 'The invoice is wrong.', maxTokens: 50 };
    const first = await model.complete(ask);
    expect(await model.complete(ask)).toEqual(first);
    const inputTokens = tokensOf(ask.system) + tokensOf(ask.prompt);
    expect(first.usage).toEqual({
      model: 'stand-in-1',
      inputTokens,
      outputTokens: tokensOf(first.text),
      cost: { amount: (inputTokens * 3 + tokensOf(first.text) * 15) / 1e6, currency: 'USD' },
    });
    const long = await model.complete({ ...ask, prompt: 'word '.repeat(1000) });
    expect(long.usage.outputTokens).toBeLessThanOrEqual(50);
  });
});

describe('an OpenAI-compatible model, against a local fake provider', () => {
  let url = '';
  const seen: { auth: string | undefined; body: Record<string, unknown> }[] = [];
  let status = 200;
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      seen.push({ auth: req.headers.authorization, body: JSON.parse(text) as Record<string, unknown> });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          model: 'gpt-test-2',
          choices: [{ message: { role: 'assistant', content: 'Sorry about the invoice.' } }],
          usage: { prompt_tokens: 120, completion_tokens: 30 },
        }),
      );
    });
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends the chat completion request and reports the provider’s token counts, priced', async () => {
    const model = openAiCompatibleModel({
      apiKey: 'sk-test',
      baseUrl: url,
      model: 'gpt-test',
      prices: { inputPerMillion: 1, outputPerMillion: 2 },
    });
    status = 200;
    const answer = await model.complete({ system: 'Be kind.', prompt: 'Invoice wrong', maxTokens: 64 });
    expect(answer).toEqual({
      text: 'Sorry about the invoice.',
      usage: { model: 'gpt-test-2', inputTokens: 120, outputTokens: 30, cost: { amount: 0.00018, currency: 'USD' } },
    });
    expect(seen.at(-1)).toEqual({
      auth: 'Bearer sk-test',
      body: {
        model: 'gpt-test',
        max_tokens: 64,
        messages: [
          { role: 'system', content: 'Be kind.' },
          { role: 'user', content: 'Invoice wrong' },
        ],
      },
    });
  });

  it('fails retryably on a rate limit or an outage, and for good on a refusal', async () => {
    const model = openAiCompatibleModel({ apiKey: 'sk-test', baseUrl: url });
    const ask = { system: 's', prompt: 'p', maxTokens: 8 };
    status = 429;
    await expect(model.complete(ask)).rejects.toMatchObject({ code: 'LLM.UNAVAILABLE', retryable: true });
    status = 401;
    await expect(model.complete(ask)).rejects.toMatchObject({ code: 'LLM.REFUSED', retryable: false });
  });

  it('is what modelFromEnv picks when OPENAI_API_KEY is set, and the stand-in otherwise', async () => {
    expect(modelFromEnv({}).name).toBe('stand-in-1');
    const real = modelFromEnv({ OPENAI_API_KEY: 'sk-test', ORCHESTRON_LLM_BASE_URL: url, ORCHESTRON_LLM_MODEL: 'm-1' });
    expect(real.name).toBe('m-1');
    status = 200;
    expect((await real.complete({ system: 's', prompt: 'p', maxTokens: 8 })).usage).not.toHaveProperty('cost');
  });
});
