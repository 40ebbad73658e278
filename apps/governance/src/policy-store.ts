import { existsSync, readdirSync, readFileSync, statSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { createPolicyEngine, PolicyError } from '@orchestron/policy';
import type { PolicyEngine, PolicySource } from '@orchestron/policy';
import type { Logger } from '@orchestron/runtime';

export type PolicyReload =
  | { readonly ok: true; readonly policyIds: readonly string[]; readonly files: readonly string[] }
  | { readonly ok: false; readonly error: Error; readonly keptPolicyIds: readonly string[] };

export interface PolicyStoreOptions {
  readonly dir: string;
  readonly logger: Logger;
  /** Editors write a file in several steps (truncate, write, rename); one reload follows the last. Default 150 ms. */
  readonly debounceMs?: number;
  /** Told about every reload after the first load, whether it took or not. */
  readonly onReload?: (reload: PolicyReload) => void;
}

/**
 * The Cedar policies of a directory (`*.cedar`, in name order), reloaded when the directory changes.
 * The first load must succeed. A later edit that does not compile is logged, naming the file, line and
 * Cedar's complaint, and the previous set stays in force: a typo never turns governance off.
 */
export class PolicyStore {
  readonly dir: string;
  readonly #logger: Logger;
  readonly #debounceMs: number;
  readonly #onReload: ((reload: PolicyReload) => void) | undefined;
  #engine: PolicyEngine;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: PolicyStoreOptions) {
    this.dir = options.dir;
    this.#logger = options.logger;
    this.#debounceMs = options.debounceMs ?? 150;
    this.#onReload = options.onReload;
    if (!existsSync(this.dir) || !statSync(this.dir).isDirectory()) {
      throw new Error(
        `policy directory ${this.dir} does not exist or is not a directory (set ORCHESTRON_POLICIES to a directory of *.cedar files)`,
      );
    }
    this.#engine = compile(this.dir).engine;
    this.#warnIfEmpty();
  }

  /** The policies in force now. Take it once per decision: a reload swaps it, it never changes under a caller. */
  engine(): PolicyEngine {
    return this.#engine;
  }

  policyIds(): readonly string[] {
    return this.#engine.policyIds;
  }

  /** Reloads on every change to the directory, until `close()`. */
  watch(): this {
    if (this.#watcher !== undefined) return this;
    this.#watcher = watch(this.dir, { persistent: false }, () => this.#schedule());
    this.#watcher.on('error', (error) => {
      this.#logger.error('policy directory watch failed; the policies in force stay until restart', {
        dir: this.dir,
        error: String(error),
      });
    });
    return this;
  }

  /** Reads and compiles the directory now; keeps the current set when that fails. True when the new set took. */
  reload(): boolean {
    let result: PolicyReload;
    try {
      const { engine, files } = compile(this.dir);
      // An emptied directory (a bad deploy, say) would allow every step: keep the policies in force instead.
      if (engine.policyIds.length === 0 && this.#engine.policyIds.length > 0)
        throw new Error(
          `${this.dir} holds no policies now; refusing to drop the ${this.#engine.policyIds.length} in force`,
        );
      this.#engine = engine;
      result = { ok: true, policyIds: engine.policyIds, files };
      this.#logger.info('policies reloaded', { dir: this.dir, files, policies: engine.policyIds });
      this.#warnIfEmpty();
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      result = { ok: false, error: failure, keptPolicyIds: this.#engine.policyIds };
      this.#logger.error('policy reload failed; the previous policies stay in force', {
        dir: this.dir,
        error: failure.message,
        problems: problemsOf(failure),
        kept: this.#engine.policyIds,
      });
    }
    this.#onReload?.(result);
    return result.ok;
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.reload(), this.#debounceMs);
  }

  #warnIfEmpty(): void {
    // The policy engine allows every step when it has no policies: say so loudly, it is rarely meant.
    if (this.#engine.policyIds.length === 0)
      this.#logger.warn('no governance policies loaded: every step is allowed', { dir: this.dir });
  }
}

function compile(dir: string): { engine: PolicyEngine; files: string[] } {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.cedar'))
    .sort();
  const sources: PolicySource[] = files.map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));
  return { engine: createPolicyEngine(sources), files };
}

function problemsOf(error: Error): Array<{ file: string; line?: number; message: string }> | undefined {
  if (!(error instanceof PolicyError)) return undefined;
  return error.errors.map((problem) => ({
    file: problem.source,
    ...(problem.line === undefined ? {} : { line: problem.line }),
    message: problem.message,
  }));
}
