import { RetryableError, TerminalError } from '@orchestron/worker-sdk';
import type { StepContext, StepHandler, StepUsage } from '@orchestron/worker-sdk';
import { field } from './simulate.ts';

/** One call of a language model: what any provider takes and gives back, usage included. */
export interface CompletionRequest {
  readonly system: string;
  readonly prompt: string;
  readonly maxTokens: number;
  readonly signal?: AbortSignal;
}

export interface Completion {
  readonly text: string;
  readonly usage: StepUsage;
}

/** A provider-neutral model: the stand-in below, or an OpenAI-compatible endpoint. */
export interface LanguageModel {
  readonly name: string;
  complete(request: CompletionRequest): Promise<Completion>;
}

/** USD per million tokens, input and output, for the usage a model reports. */
export interface Prices {
  readonly inputPerMillion: number;
  readonly outputPerMillion: number;
}

/** What the stand-in charges: a mid-sized hosted model's list price, so budgets behave as they would in production. */
export const STAND_IN_PRICES: Prices = { inputPerMillion: 3, outputPerMillion: 15 };

/** About four characters a token, as English text runs with common tokenizers. */
export const tokensOf = (text: string): number => Math.max(1, Math.ceil(text.length / 4));

export function costOf(prices: Prices, inputTokens: number, outputTokens: number): StepUsage['cost'] {
  const amount = (inputTokens * prices.inputPerMillion + outputTokens * prices.outputPerMillion) / 1_000_000;
  return { amount: Math.round(amount * 1e6) / 1e6, currency: 'USD' };
}

/**
 * A deterministic local model for tests and `npm start`: no network, the same answer to the same prompt, and usage
 * counted as a real model's would be (tokens of the system prompt and prompt in, of the answer out, list prices).
 */
export function standInModel(prices: Prices = STAND_IN_PRICES): LanguageModel {
  return {
    name: 'stand-in-1',
    async complete({ system, prompt, maxTokens }) {
      const words = prompt.split(/\s+/).filter((w) => w !== '');
      const gist = words.slice(0, Math.min(words.length, maxTokens * 2)).join(' ');
      const text = `${system.split('.')[0]}: ${gist}`.slice(0, maxTokens * 4);
      const inputTokens = tokensOf(system) + tokensOf(prompt);
      const outputTokens = tokensOf(text);
      return {
        text,
        usage: { model: 'stand-in-1', inputTokens, outputTokens, cost: costOf(prices, inputTokens, outputTokens) },
      };
    },
  };
}

export interface OpenAiCompatibleOptions {
  readonly apiKey: string;
  /** Default https://api.openai.com/v1; any server with the chat completions API. */
  readonly baseUrl?: string;
  readonly model?: string;
  /** To report cost; without them only tokens are reported. */
  readonly prices?: Prices;
  readonly fetch?: typeof fetch;
}

/** A model behind the OpenAI chat completions API (OpenAI, and the many servers that speak it). */
export function openAiCompatibleModel(options: OpenAiCompatibleOptions): LanguageModel {
  const model = options.model ?? 'gpt-4o-mini';
  const url = `${(options.baseUrl ?? 'https://api.openai.com/v1').replace(/\/$/, '')}/chat/completions`;
  const call = options.fetch ?? fetch;
  return {
    name: model,
    async complete({ system, prompt, maxTokens, signal }) {
      const response = await call(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model,
          max_tokens: maxTokens,
          messages: [
            { role: 'system', content: system },
            { role: 'user', content: prompt },
          ],
        }),
        ...(signal ? { signal } : {}),
      });
      if (!response.ok) {
        const message = `the model answered ${response.status}`;
        // Rate limits and outages pass; a refused request (bad key, bad model) fails the same way again.
        if (response.status === 429 || response.status >= 500) throw new RetryableError(message, 'LLM.UNAVAILABLE');
        throw new TerminalError(message, 'LLM.REFUSED');
      }
      return completionOf((await response.json()) as ChatCompletion, model, options.prices);
    },
  };
}

interface ChatCompletion {
  readonly model?: string;
  readonly choices?: readonly { readonly message?: { readonly content?: string } }[];
  readonly usage?: { readonly prompt_tokens?: number; readonly completion_tokens?: number };
}

function completionOf(body: ChatCompletion, model: string, prices: Prices | undefined): Completion {
  const text = body.choices?.[0]?.message?.content;
  if (typeof text !== 'string') throw new TerminalError('the model answered without a message', 'LLM.BAD_ANSWER');
  const inputTokens = body.usage?.prompt_tokens ?? 0;
  const outputTokens = body.usage?.completion_tokens ?? 0;
  const cost = prices ? costOf(prices, inputTokens, outputTokens) : undefined;
  return { text, usage: { model: body.model ?? model, inputTokens, outputTokens, ...(cost ? { cost } : {}) } };
}

/**
 * The model the `llm` worker uses: an OpenAI-compatible endpoint when `OPENAI_API_KEY` is set
 * (`ORCHESTRON_LLM_BASE_URL`, `ORCHESTRON_LLM_MODEL`, `ORCHESTRON_LLM_PRICES=<in>,<out>` USD per million tokens),
 * else the deterministic stand-in.
 */
export function modelFromEnv(env: NodeJS.ProcessEnv = process.env): LanguageModel {
  const apiKey = env['OPENAI_API_KEY'];
  if (apiKey === undefined || apiKey === '') return standInModel();
  const prices = env['ORCHESTRON_LLM_PRICES']?.split(',').map(Number);
  return openAiCompatibleModel({
    apiKey,
    ...(env['ORCHESTRON_LLM_BASE_URL'] ? { baseUrl: env['ORCHESTRON_LLM_BASE_URL'] } : {}),
    ...(env['ORCHESTRON_LLM_MODEL'] ? { model: env['ORCHESTRON_LLM_MODEL'] } : {}),
    ...(prices?.length === 2 && prices.every((p) => Number.isFinite(p) && p >= 0)
      ? { prices: { inputPerMillion: prices[0] as number, outputPerMillion: prices[1] as number } }
      : {}),
  });
}

/**
 * The `llm` worker of examples/support-reply.yaml: `classify`, `draft` and `review` each call the model once and
 * report what the call used with `ctx.reportUsage`, which is all a worker does for budgets to work.
 */
export function llmHandlers(model: LanguageModel): Record<string, StepHandler> {
  const ask = (system: string, maxTokens: number) => async (ctx: StepContext) => {
    const prompt = field(ctx.input, 'text');
    if (prompt === '') throw new TerminalError('the input has no "text" to work on', 'LLM.NO_INPUT');
    const { text, usage } = await model.complete({ system, prompt, maxTokens, signal: ctx.signal });
    ctx.reportUsage(usage);
    return { text, model: usage.model ?? model.name };
  };
  return {
    classify: ask('Classify this support ticket as billing, bug or question. Answer with the class', 16),
    draft: ask('Draft a short, kind reply to this support ticket. Reply', 300),
    review: ask('Review this draft reply for tone and accuracy. Verdict', 60),
  };
}
