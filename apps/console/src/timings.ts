declare global {
  interface Window {
    /** Render times the console measured, in ms, read by the browser tests (test/e2e/console.e2e.spec.ts). */
    orchestronTimings?: Record<string, number>;
  }
}

export function markTiming(name: string, ms: number): void {
  window.orchestronTimings = { ...window.orchestronTimings, [name]: Math.round(ms) };
}
