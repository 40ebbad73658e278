import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Readable } from 'node:stream';
import { verifyExport } from '@orchestron/audit';
import type { InclusionProof, SignedCheckpoint, VerifyReport } from '@orchestron/audit';
import { RUN_STREAM_PREFIX, runStream } from '@orchestron/runtime';
import type { RunService } from '@orchestron/runtime';
import type { FastifyReply } from 'fastify';
import type { AuditService } from '../audit.ts';
import { errorContract } from './agent-contract.ts';
import type { AgentContract } from './agent-contract.ts';
import { errorResponses } from './api-models.ts';
import { maySee } from './auth.ts';
import type { Principal } from './auth.ts';
import { Caller, HISTORY_READERS, Roles } from './auth.guard.ts';
import { AuditExportQuery } from './audit.dto.ts';
import { decorateClass, decorateMethod, injectByToken } from './decorate.ts';
import { RequestError } from './errors.ts';
import { AUDIT, RUN_SERVICE } from './tokens.ts';

/** The verifiable log (docs/audit.md): the newest signed checkpoint, exports to check offline, inclusion proofs. */
export class AuditController {
  readonly #audit: AuditService | null;
  readonly #runs: RunService;

  constructor(audit: AuditService | null, runs: RunService) {
    this.#audit = audit;
    this.#runs = runs;
  }

  async checkpoint(): Promise<{ checkpoint: SignedCheckpoint; publicKey: string; agent_contract: AgentContract }> {
    const audit = this.#on();
    return {
      checkpoint: await this.#latest(audit),
      publicKey: audit.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      agent_contract: errorContract(false),
    };
  }

  /** NDJSON: the whole log up to the newest checkpoint (admin: it spans tenants), or one run's stream. */
  async export(query: AuditExportQuery, caller: Principal, reply: FastifyReply): Promise<void> {
    const lines = await this.#exportLines(query, caller);
    await reply.header('content-type', 'application/x-ndjson; charset=utf-8').send(Readable.from(withNewlines(lines)));
  }

  /**
   * The export the same caller would get, checked here as `orchestron audit verify` checks it, against the server's
   * own public key: it catches a change made to the store behind the server's back, not a server that lies.
   */
  async verify(
    query: AuditExportQuery,
    caller: Principal,
  ): Promise<{ verification: VerifyReport; agent_contract: AgentContract }> {
    const lines = await this.#exportLines(query, caller);
    const report = await verifyExport(lines, { publicKey: this.#on().publicKey });
    const notes = [
      ...report.notes,
      'checked by the server with its own key: for a check that trusts no server, run `orchestron audit verify --public-key` with a key you keep',
    ];
    return { verification: { ...report, notes }, agent_contract: errorContract(false) };
  }

  async #exportLines(query: AuditExportQuery, caller: Principal): Promise<AsyncIterable<string>> {
    const audit = this.#on();
    if (query.run !== undefined) {
      const run = await this.#runs.getRun(query.run);
      if (run === null || !maySee(caller, run.tenant))
        throw new RequestError('RUN.NOT_FOUND', `run ${JSON.stringify(query.run)} does not exist`);
      return audit.reader.exportStream(runStream(query.run), `run ${query.run}`);
    }
    if (caller.role !== 'admin')
      throw new RequestError(
        'AUTH.FORBIDDEN',
        `the whole log spans tenants, so only an admin key exports or verifies it; role ${caller.role} may take one of its runs with ?run=`,
        { field: 'run' },
      );
    return audit.reader.exportAll(await this.#latest(audit));
  }

  async proof(eventId: string, caller: Principal): Promise<{ proof: InclusionProof; agent_contract: AgentContract }> {
    const audit = this.#on();
    const event = await audit.reader.find(eventId);
    if (event === undefined || !(await this.#visible(event.streamId, caller)))
      throw new RequestError('EVENT.NOT_FOUND', `event ${JSON.stringify(eventId)} is not in the log`);
    const proof = await audit.reader.prove(event, await this.#latest(audit));
    if (proof === undefined)
      throw new RequestError(
        'AUDIT.NOT_READY',
        `event ${eventId} (position ${event.position}) is not in a signed checkpoint yet; ask again in a second`,
      );
    return { proof, agent_contract: errorContract(false) };
  }

  #on(): AuditService {
    if (this.#audit === null)
      throw new RequestError(
        'AUDIT.UNAVAILABLE',
        'the audit log is off on this server (ORCHESTRON_AUDIT=off, or a store without read rows)',
      );
    return this.#audit;
  }

  async #latest(audit: AuditService): Promise<SignedCheckpoint> {
    const checkpoint = await audit.reader.latestCheckpoint();
    if (checkpoint === undefined)
      throw new RequestError('AUDIT.NOT_READY', 'the notary has not signed its first checkpoint yet; ask again soon');
    return checkpoint;
  }

  /** A run's events are its tenant's; any other stream (definitions, keys) is an admin's. */
  async #visible(streamId: string, caller: Principal): Promise<boolean> {
    if (!streamId.startsWith(RUN_STREAM_PREFIX)) return caller.role === 'admin';
    const run = await this.#runs.getRun(streamId.slice(RUN_STREAM_PREFIX.length));
    return run !== null && maySee(caller, run.tenant);
  }
}

async function* withNewlines(lines: AsyncIterable<string>): AsyncGenerator<string> {
  for await (const line of lines) yield `${line}\n`;
}

injectByToken(AuditController, [AUDIT, RUN_SERVICE]);
decorateClass(AuditController, [
  Controller('v1/audit'),
  ApiTags('audit'),
  ApiBearerAuth(),
  ...errorResponses(400, 401, 403, 409, 503),
]);
decorateMethod(
  AuditController,
  'checkpoint',
  [
    Get('checkpoint'),
    Roles(...HISTORY_READERS),
    ApiOperation({
      summary: "the newest signed checkpoint of the log's Merkle tree, and the public key it is signed with",
      description: 'keep the public key from a source you trust: a key read from the server proves only consistency',
    }),
    ApiResponse({ status: 200, description: '{ checkpoint, publicKey (PEM) }' }),
  ],
  [],
);
decorateMethod(
  AuditController,
  'export',
  [
    Get('export'),
    Roles(...HISTORY_READERS),
    ApiOperation({
      summary: 'the log as NDJSON with each event hash, to check offline (orchestron audit verify --file)',
      description:
        "without run: the whole log up to the newest checkpoint (admin only, it spans tenants); with run: that run's events",
    }),
    ApiResponse({
      status: 200,
      description: 'a header line, then one line per event',
      content: { 'application/x-ndjson': {} },
    }),
    ...errorResponses(404),
  ],
  [{ decorator: Query(), type: AuditExportQuery }, { decorator: Caller() }, { decorator: Res() }],
);
decorateMethod(
  AuditController,
  'verify',
  [
    Get('verify'),
    Roles(...HISTORY_READERS),
    ApiOperation({
      summary:
        'the export checked by the server, as `orchestron audit verify` checks it: ok, or the first bad position',
      description:
        "without run: the whole log against the newest checkpoint (admin only); with run: that run's events along its chain. Checked with the server's own key, so it catches a store changed behind the server's back, not a lying server",
    }),
    ApiResponse({
      status: 200,
      description:
        '{ verification: { ok, events, streams, checkpoint, problem: { position, line, message } | null, notes } }',
    }),
    ...errorResponses(404),
  ],
  [{ decorator: Query(), type: AuditExportQuery }, { decorator: Caller() }],
);
decorateMethod(
  AuditController,
  'proof',
  [
    Get('proofs/:eventId'),
    Roles(...HISTORY_READERS),
    ApiOperation({ summary: "the proof that an event is in the newest checkpoint's tree (RFC 9162 audit path)" }),
    ApiParam({ name: 'eventId', type: String }),
    ApiResponse({ status: 200, description: '{ proof: { event, prev, hash, index, treeSize, path, checkpoint } }' }),
    ...errorResponses(404),
  ],
  [{ decorator: Param('eventId'), type: String }, { decorator: Caller() }],
);
