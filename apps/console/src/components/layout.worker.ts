import { positions } from './layout.ts';
import type { LayoutRequest } from './layout.ts';

/** Lays out off the main thread, so a large graph never freezes the page. */
self.onmessage = (event: MessageEvent<LayoutRequest & { readonly ticket: number }>) => {
  self.postMessage({ ticket: event.data.ticket, positions: positions(event.data) });
};
