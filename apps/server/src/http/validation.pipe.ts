import { ValidationPipe } from '@nestjs/common';
import type { ArgumentMetadata } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import { RequestError } from './errors.ts';

/**
 * class-validator over the DTOs, failing as today's `REQUEST.INVALID` with the message of the first broken rule
 * and `details.field` naming the field. Fields a DTO does not declare are refused, not silently dropped.
 */
export class RequestValidationPipe extends ValidationPipe {
  constructor() {
    super({ whitelist: true, forbidNonWhitelisted: true, transform: true, exceptionFactory: toRequestError });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // An array or a scalar would otherwise be validated as a DTO whose properties are its indexes.
    if (metadata.type === 'body' && metadata.metatype && metadata.metatype !== Object && value !== undefined && value !== null && (typeof value !== 'object' || Array.isArray(value))) {
      throw new RequestError('REQUEST.INVALID', 'the body must be a JSON object');
    }
    return super.transform(value, metadata);
  }
}

function toRequestError(errors: ValidationError[]): RequestError {
  const first = firstLeaf(errors);
  if (!first) return new RequestError('REQUEST.INVALID', 'the request is invalid');
  const field = first.property;
  const constraints = first.constraints ?? {};
  if (constraints.whitelistValidation !== undefined) return new RequestError('REQUEST.INVALID', `"${field}" is not a field of this request`, { field });
  const message = Object.values(constraints)[0] ?? `"${field}" is invalid`;
  return new RequestError('REQUEST.INVALID', message, { field });
}

function firstLeaf(errors: readonly ValidationError[]): ValidationError | undefined {
  for (const error of errors) {
    if (error.constraints && Object.keys(error.constraints).length > 0) return error;
    const child = firstLeaf(error.children ?? []);
    if (child) return child;
  }
  return undefined;
}
