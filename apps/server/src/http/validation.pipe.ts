import { ValidationPipe } from '@nestjs/common';
import type { ArgumentMetadata } from '@nestjs/common';
import { quoteForMessage } from '@orchestron/definitions';
import { getMetadataStorage } from 'class-validator';
import type { ValidationError } from 'class-validator';
import { RequestError } from './errors.ts';

/** The longest path parameter a route looks up: run ids are 36 characters; anything near this is not one. */
export const MAX_PATH_PARAM_CHARS = 128;

/**
 * class-validator over the DTOs, failing as today's `REQUEST.INVALID` with the message of the first broken rule
 * and `details.field` naming the field. Fields a DTO does not declare are refused, not silently dropped.
 */
export class RequestValidationPipe extends ValidationPipe {
  constructor() {
    super({ whitelist: true, forbidNonWhitelisted: true, transform: true, exceptionFactory: toRequestError });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'param' && metadata.data !== undefined && typeof value === 'string')
      checkPathParam(metadata.data, value);
    const dto =
      metadata.metatype && metadata.metatype !== Object && metadata.metatype !== String ? metadata.metatype : undefined;
    // An array or a scalar would otherwise be validated as a DTO whose properties are its indexes.
    if (
      metadata.type === 'body' &&
      dto &&
      value !== undefined &&
      value !== null &&
      (typeof value !== 'object' || Array.isArray(value))
    ) {
      throw new RequestError('REQUEST.INVALID', 'the body must be a JSON object', { field: 'body' });
    }
    if (!dto || value === null || typeof value !== 'object' || Array.isArray(value))
      return super.transform(value, metadata);
    refuseUndeclaredKeys(value, dto);
    // No DTO nests another: an object or array in a field is free-form JSON (a run's input, a definition, a skip's
    // output). class-transformer must not walk it: it skips keys named like Object.prototype's members (`toString`)
    // and throws on a `constructor` key. It validates a stand-in of the same kind, and the value goes on as it came.
    const freeForm = Object.entries(value).filter(([, field]) => field !== null && typeof field === 'object');
    const standIns = Object.fromEntries(freeForm.map(([key, field]) => [key, Array.isArray(field) ? [] : {}]));
    const result: unknown = await super.transform({ ...value, ...standIns }, metadata);
    if (result !== null && typeof result === 'object')
      for (const [key, field] of freeForm) (result as Record<string, unknown>)[key] = field;
    return result;
  }

  /**
   * Nest deletes every `__proto__`, `prototype` and `constructor` key, at any depth, before validating: a run input
   * holding `{"constructor": "Ada"}` would lose it silently. Our JSON parser already refuses `__proto__` and
   * `constructor.prototype` (the keys that could pollute a prototype), so what is left is data.
   */
  protected override stripProtoKeys(): void {}
}

/**
 * Done here, before Nest and class-validator see the value, because they do not refuse every undeclared key:
 * Nest's ValidationPipe deletes `__proto__`, `prototype` and `constructor` before validating (so they were accepted
 * silently), class-transformer skips keys that name a method of Object.prototype (`toString`, `hasOwnProperty`),
 * and class-validator's whitelist looks names up on a plain object, where `constructor` is found.
 */
function refuseUndeclaredKeys(value: object, dto: abstract new (...args: never[]) => unknown): void {
  const declared = new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(dto, '', true, false)
      .map((m) => m.propertyName),
  );
  for (const key of Object.keys(value)) {
    if (!declared.has(key))
      throw new RequestError('REQUEST.INVALID', `${quoteForMessage(key)} is not a field of this request`, {
        field: clipField(key),
      });
  }
}

function checkPathParam(name: string, value: string): void {
  if (value.length === 0 || value.length > MAX_PATH_PARAM_CHARS) {
    throw new RequestError(
      'REQUEST.INVALID',
      `path parameter "${name}" must be 1 to ${MAX_PATH_PARAM_CHARS} characters; got ${quoteForMessage(value)}`,
      { field: name },
    );
  }
}

function toRequestError(errors: ValidationError[]): RequestError {
  const first = firstLeaf(errors);
  if (!first) return new RequestError('REQUEST.INVALID', 'the request is invalid');
  const field = first.property;
  const constraints = first.constraints ?? {};
  if (constraints.whitelistValidation !== undefined)
    return new RequestError('REQUEST.INVALID', `${quoteForMessage(field)} is not a field of this request`, {
      field: clipField(field),
    });
  const message = Object.values(constraints)[0] ?? `${quoteForMessage(field)} is invalid`;
  return new RequestError('REQUEST.INVALID', message, { field: clipField(field) });
}

/** details.field repeats the client's key: a long one is cut like any echoed value. */
function clipField(field: string): string {
  return field.length > 80 ? quoteForMessage(field) : field;
}

function firstLeaf(errors: readonly ValidationError[]): ValidationError | undefined {
  for (const error of errors) {
    if (error.constraints && Object.keys(error.constraints).length > 0) return error;
    const child = firstLeaf(error.children ?? []);
    if (child) return child;
  }
  return undefined;
}
