export { createHttpApp } from './http/app.ts';
export type { HttpApp, HttpAppOptions } from './http/app.ts';
