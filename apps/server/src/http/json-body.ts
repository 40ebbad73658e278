import { JsonLimitError, MAX_JSON_DEPTH, MAX_OBJECT_KEYS, parseLimitedJson } from '@orchestron/definitions';
import type { FastifyInstance } from 'fastify';
import { RequestError } from './errors.ts';

/**
 * The one parser of application/json bodies, in place of Fastify's. Every later walk of a body (class-transformer,
 * Nest's prototype-key stripping, ajv, the engine's clones) recurses, so the depth is refused before JSON.parse, in
 * one pass over the text; numbers JSON.parse reads as Infinity are refused with their path instead of being stored
 * as null; and prototype keys are refused by name, where Fastify's secure-json-parse said "not valid JSON".
 * The size limit is Fastify's to enforce while the body streams in (413, see ApiExceptionFilter).
 */
export function useJsonBodyParser(fastify: FastifyInstance, bodyLimit: number): void {
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(typeof body === 'string' ? body : body.toString('utf8')));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}

/** The body's value, or a REQUEST.INVALID naming the limit it breaks (depth, finite numbers, prototype keys) or the syntax error. */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0)
    throw new RequestError(
      'REQUEST.INVALID',
      'the body is empty but Content-Type says application/json: send a JSON value',
    );
  try {
    return parseLimitedJson(text, {
      maxDepth: MAX_JSON_DEPTH,
      maxKeys: MAX_OBJECT_KEYS,
      forbidPrototypeKeys: true,
      subject: 'the body',
    });
  } catch (error) {
    if (error instanceof JsonLimitError) throw new RequestError('REQUEST.INVALID', error.message, { ...error.details });
    throw error;
  }
}
