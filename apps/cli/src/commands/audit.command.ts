import { createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { proofProblem, verifyExport } from '@orchestron/audit';
import type { InclusionProof, SignedCheckpoint, VerifyReport } from '@orchestron/audit';
import { UsageError } from '../cli.errors.ts';
import { addAuditQueryCommand } from './audit-query.command.ts';
import { printJson } from '../output.ts';
import type { CliContext } from '../cli.context.ts';
import type { Command } from 'commander';

interface VerifyFlags {
  readonly file?: string;
  readonly proof?: string;
  readonly checkpoint?: string;
  readonly publicKey?: string;
  readonly json?: boolean;
}

/** `orchestron audit …`: the verifiable log (docs/audit.md). Returns the command so others can add to it. */
export function registerAuditCommand(program: Command, ctx: CliContext): Command {
  const audit = program
    .command('audit')
    .description('search, export, prove and verify the event log without trusting the server (docs/audit.md)');
  addAuditQueryCommand(audit, ctx);

  audit
    .command('checkpoint')
    .description("print the newest signed checkpoint of the log's Merkle tree (save it as cp.json)")
    .option('--public-key', 'print the PEM public key it is signed with instead (save it as key.pem)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ orchestron audit checkpoint > cp.json\n  $ orchestron audit checkpoint --public-key > key.pem\n',
    )
    .action(async (options: { publicKey?: boolean }, command: Command) => {
      const { checkpoint, publicKey } = await ctx
        .client(command)
        .getJson<{ checkpoint: SignedCheckpoint; publicKey: string }>('/v1/audit/checkpoint');
      if (options.publicKey) ctx.io.out(publicKey.trimEnd());
      else printJson(ctx.io, checkpoint);
      ctx.finish({ kind: 'succeeded' });
    });

  audit
    .command('export')
    .description('stream the log as NDJSON with each event hash, to keep and check offline')
    .option('--run <runId>', "only this run's events (any auditor of its tenant); the whole log needs an admin key")
    .addHelpText(
      'after',
      `
The whole log goes up to the newest signed checkpoint, whose header line it carries; it streams, so memory
stays constant however long the log is.

Examples:
  $ orchestron audit export > log.ndjson
  $ orchestron audit export --run "$RUN" > run.ndjson
  $ orchestron audit verify --file log.ndjson --public-key key.pem
`,
    )
    .action(async (options: { run?: string }, command: Command) => {
      const path = `/v1/audit/export${options.run === undefined ? '' : `?run=${encodeURIComponent(options.run)}`}`;
      for await (const line of ctx.client(command).streamLines(path)) if (line !== '') ctx.io.out(line);
      ctx.finish({ kind: 'succeeded' });
    });

  audit
    .command('prove')
    .description('print the proof that an event is in the signed tree (check it with `audit verify --proof`)')
    .argument('<eventId>', "the event's id (as in `history --json`)")
    .addHelpText(
      'after',
      '\nExamples:\n  $ orchestron audit prove "$EVENT" > proof.json\n  $ orchestron audit verify --proof proof.json --public-key key.pem\n',
    )
    .action(async (eventId: string, _options: unknown, command: Command) => {
      const { proof } = await ctx
        .client(command)
        .getJson<{ proof: InclusionProof }>(`/v1/audit/proofs/${encodeURIComponent(eventId)}`);
      printJson(ctx.io, proof);
      ctx.finish({ kind: 'succeeded' });
    });

  audit
    .command('verify')
    .description('check the log, an export or a proof: hashes, chains, the signed root; names the first bad position')
    .option('--file <export.ndjson>', 'check this export offline instead of the live log')
    .option('--proof <proof.json>', 'check an inclusion proof offline')
    .option('--checkpoint <cp.json>', "hold the events to this checkpoint instead of the export's own")
    .option('--public-key <key.pem>', 'the key the checkpoint must be signed with (one you trust)')
    .option('--json', 'print the report as one line of JSON')
    .addHelpText(
      'after',
      `
Without --file or --proof it streams the live log from the server (an admin key) and checks it here; the
signature is then checked against --public-key, or else the server's own key (which proves only consistency).
Exits 0 when everything holds, 1 at the first problem, naming its position.

Examples:
  $ orchestron audit verify
  $ orchestron audit verify --file log.ndjson --checkpoint cp.json --public-key key.pem
  $ orchestron audit verify --proof proof.json --public-key key.pem
`,
    )
    .action(async (options: VerifyFlags, command: Command) => {
      if (options.proof !== undefined) return verifyProof(ctx, options);
      const publicKey = options.publicKey === undefined ? undefined : readKey(ctx, options.publicKey);
      const checkpoint =
        options.checkpoint === undefined
          ? undefined
          : readJson<SignedCheckpoint>(ctx, options.checkpoint, '--checkpoint');
      const lines =
        options.file === undefined
          ? ctx.client(command).streamLines('/v1/audit/export')
          : fileLines(resolve(ctx.cwd, existing(ctx, options.file, '--file')));
      const serverKey =
        options.file === undefined && publicKey === undefined ? await serverPublicKey(ctx, command) : undefined;
      const report = await verifyExport(lines, {
        ...(checkpoint !== undefined ? { checkpoint } : {}),
        ...((publicKey ?? serverKey) !== undefined ? { publicKey: (publicKey ?? serverKey) as KeyObject } : {}),
      });
      printReport(ctx, report, options.json === true, serverKey !== undefined);
      ctx.finish(report.ok ? { kind: 'succeeded' } : { kind: 'check_failed' });
    });
  return audit;
}

function printReport(ctx: CliContext, report: VerifyReport, json: boolean, serverKey: boolean): void {
  const notes = serverKey
    ? [...report.notes, "the signature was checked with the server's own key: pass --public-key with one you trust"]
    : report.notes;
  if (json) return printJson(ctx.io, { ...report, notes });
  if (report.problem !== null) {
    const where = report.problem.position === null ? '' : ` at position ${report.problem.position}`;
    ctx.io.out(`FAILED${where} (line ${report.problem.line}): ${report.problem.message}`);
  } else {
    const cp = report.checkpoint;
    ctx.io.out(
      `verified ${report.events} events in ${report.streams} streams` +
        (cp
          ? ` against checkpoint ${cp.treeSize} (root ${cp.rootHash.slice(0, 16)}…, signed ${cp.time} by key ${cp.keyId})`
          : ''),
    );
  }
  for (const note of notes) ctx.io.out(`note: ${note}`);
}

function verifyProof(ctx: CliContext, options: VerifyFlags): void {
  const proof = readJson<InclusionProof>(ctx, options.proof as string, '--proof');
  const publicKey = options.publicKey === undefined ? undefined : readKey(ctx, options.publicKey);
  const problem = proofProblem(proof, publicKey);
  if (options.json) printJson(ctx.io, { ok: problem === null, problem });
  else if (problem !== null) ctx.io.out(`FAILED: ${problem}`);
  else
    ctx.io.out(
      `proved: event ${proof.event.id} (position ${proof.event.position}) is leaf ${proof.index} of the tree of ${proof.treeSize} signed ${proof.checkpoint.time}` +
        (publicKey === undefined ? '\nnote: the signature was not checked: give --public-key' : ''),
    );
  ctx.finish(problem === null ? { kind: 'succeeded' } : { kind: 'check_failed' });
}

async function serverPublicKey(ctx: CliContext, command: Command): Promise<KeyObject> {
  const { publicKey } = await ctx.client(command).getJson<{ publicKey: string }>('/v1/audit/checkpoint');
  return createPublicKey(publicKey);
}

async function* fileLines(path: string): AsyncGenerator<string> {
  yield* createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
}

function existing(ctx: CliContext, path: string, flag: string): string {
  if (!existsSync(resolve(ctx.cwd, path))) throw new UsageError(`${flag} ${path}: no such file`);
  return path;
}

function readJson<T>(ctx: CliContext, path: string, flag: string): T {
  try {
    return JSON.parse(readFileSync(resolve(ctx.cwd, existing(ctx, path, flag)), 'utf8')) as T;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${flag} ${path} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function readKey(ctx: CliContext, path: string): KeyObject {
  try {
    return createPublicKey(readFileSync(resolve(ctx.cwd, existing(ctx, path, '--public-key')), 'utf8'));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--public-key ${path} is not a PEM public key`);
  }
}
