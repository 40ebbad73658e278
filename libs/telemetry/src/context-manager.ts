import { AsyncLocalStorage } from 'node:async_hooks';
import { ROOT_CONTEXT, type Context, type ContextManager } from '@opentelemetry/api';

/**
 * The active OTel context kept in an AsyncLocalStorage. The SDK has the same thing in
 * @opentelemetry/context-async-hooks, but that package is only a transitive dependency here, and we want a context
 * manager even when tracing exports nothing (so an incoming trace context still reaches logs and outgoing headers).
 * `bind` wraps functions only; EventEmitters are returned unchanged, since nothing here relies on binding them.
 */
export class AsyncLocalStorageContext implements ContextManager {
  private storage = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const callback = thisArg == null ? fn : (fn.bind(thisArg) as F);
    return this.storage.run(context, callback, ...args);
  }

  bind<T>(context: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const run = (fn: (...args: unknown[]) => unknown, self: unknown, args: unknown[]): unknown =>
      this.with(context, () => fn.apply(self, args));
    const original = target as unknown as (...args: unknown[]) => unknown;
    return function bound(this: unknown, ...args: unknown[]) {
      return run(original, this, args);
    } as unknown as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.storage.disable();
    this.storage = new AsyncLocalStorage<Context>();
    return this;
  }
}
