import { spanIdForKey, spanIdForRun, traceIdForRun, traceparentForRun } from './trace-ids.ts';

describe('ids derived from a run id', () => {
  // sha256("run-1") = 4e65d3fbe8ad6535681b021b30785b12 b6c0e3f8878859a4 148b3f58b8835db0 (`echo -n run-1 | sha256sum`)
  it('takes the trace id from the first 32 hex digits of sha256(runId), as libs/runtime always has', () => {
    expect(traceIdForRun('run-1')).toBe('4e65d3fbe8ad6535681b021b30785b12');
  });

  it("takes the run's own span id from the next 16 digits", () => {
    expect(spanIdForRun('run-1')).toBe('b6c0e3f8878859a4');
  });

  it("reproduces the runtime's traceparentFor(runId, spanKey) when given a span key", () => {
    expect(traceparentForRun('run-1', 'run-1')).toBe('00-4e65d3fbe8ad6535681b021b30785b12-4e65d3fbe8ad6535-01');
    expect(spanIdForKey('run-1')).toBe('4e65d3fbe8ad6535');
  });

  it("parents on the run's own span id when no span key is given", () => {
    expect(traceparentForRun('run-1')).toBe('00-4e65d3fbe8ad6535681b021b30785b12-b6c0e3f8878859a4-01');
  });

  it('gives the same ids for a run whose ids were remembered, then forgotten among thousands of others', () => {
    expect(spanIdForRun('run-1')).toBe('b6c0e3f8878859a4');
    const others = Array.from({ length: 5_000 }, (_, i) => traceIdForRun(`other-${i}`));
    expect(new Set(others).size).toBe(others.length);
    expect(traceIdForRun('run-1')).toBe('4e65d3fbe8ad6535681b021b30785b12');
    expect(spanIdForRun('run-1')).toBe('b6c0e3f8878859a4');
    expect(() => spanIdForRun('')).toThrow('runId must be a non-empty string');
  });

  it('refuses an empty run id rather than deriving a shared trace', () => {
    expect(() => traceIdForRun('')).toThrow('runId must be a non-empty string');
    expect(() => spanIdForKey('')).toThrow('key must be a non-empty string');
  });
});
