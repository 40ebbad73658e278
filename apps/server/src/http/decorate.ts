import 'reflect-metadata';
import { Inject } from '@nestjs/common';

/*
 * Node's type stripping rejects decorator syntax, so Nest, class-validator and swagger decorators are applied
 * as functions. Without emitDecoratorMetadata nothing records parameter or property types either: these
 * helpers write `design:paramtypes` themselves, which is what ValidationPipe and the OpenAPI scanner read.
 */

export type Type = abstract new (...args: never[]) => unknown;

export interface ParamSpec {
  readonly decorator: ParameterDecorator;
  /** The class a ValidationPipe turns the value into (a DTO), or String/Object for values it leaves alone. */
  readonly type?: Type | StringConstructor | ObjectConstructor;
}

export function decorateClass(target: Type, decorators: readonly ClassDecorator[]): void {
  Reflect.decorate([...decorators], target as unknown as new () => unknown);
}

/** Decorates `target.prototype[method]` and declares its parameters in order. */
export function decorateMethod(
  target: Type,
  method: string,
  decorators: readonly MethodDecorator[],
  params: readonly ParamSpec[] = [],
): void {
  const proto = target.prototype as object;
  const descriptor = Object.getOwnPropertyDescriptor(proto, method);
  if (!descriptor)
    throw new Error(`${String((target as { name?: string }).name)} has no method "${method}" to decorate`);
  const result = Reflect.decorate([...decorators], proto, method, descriptor) as PropertyDescriptor | undefined;
  if (result) Object.defineProperty(proto, method, result);
  params.forEach((param, index) => param.decorator(proto, method, index));
  Reflect.defineMetadata(
    'design:paramtypes',
    params.map((param) => param.type ?? Object),
    proto,
    method,
  );
}

/** Decorates a property of a DTO or an OpenAPI model (declared with `declare`, so instances only carry what the client sent). */
export function decorateProperty(target: Type, property: string, decorators: readonly PropertyDecorator[]): void {
  Reflect.decorate([...decorators], target.prototype as object, property);
}

/** Constructor injection by token: there are no parameter types to infer tokens from. */
export function injectByToken(target: Type, tokens: readonly (string | symbol | Type)[]): void {
  tokens.forEach((token, index) => Inject(token)(target, undefined, index));
}
