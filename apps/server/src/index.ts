export { createHttpApp } from './http/app.ts';
export type { HttpApp, HttpAppOptions } from './http/app.ts';
export { RequestError } from './http/errors.ts';
export { KeyError, KeyRing } from './keys/key-ring.ts';
export type { KeyView } from './keys/key-ring.ts';
