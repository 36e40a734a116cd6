// GET /audit/verify and GET /audit/export (admins), GET /audit/public-key (anyone).
import { type ApiRouter, type Logger, recordEvents, makeEvent } from '@praxis/platform';
import type { Connection } from 'mongoose';
import { z } from 'zod';
import type { SigningKeyring } from '../checkpoints/signing-keys';
import { countToExport, exportTenantLog } from './export-log';
import { type LogStores, verifyTenantLog } from './verify-log';

const checkpointSchema = z.object({
  tenantId: z.string(),
  seq: z.number().int(),
  hash: z.string(),
  signedAt: z.string(),
  keyId: z.string(),
  alg: z.literal('Ed25519'),
  signature: z.string(),
});

export interface VerifyRouteDeps extends LogStores {
  conn: Connection;
  logger: Logger;
  keyring: SigningKeyring;
  /** Called after an access event was recorded in the outbox (nudges the relay). */
  onEventsRecorded?: () => void;
}

export function verifyRoutes(api: ApiRouter, deps: VerifyRouteDeps): void {
  api.route(
    {
      method: 'get',
      path: '/audit/verify',
      summary: 'Verify the practice’s whole log (every hash, link and checkpoint) and sign its head',
      tags: ['audit'],
      auth: { permission: 'audit:read' },
      response: z.object({
        ok: z.boolean(),
        entries: z.number().int(),
        head: z.object({ seq: z.number().int(), hash: z.string() }),
        checkpoint: checkpointSchema,
        firstBroken: z.object({ seq: z.number().int(), reason: z.string() }).optional(),
      }),
    },
    async ({ auth }) => {
      const r = await verifyTenantLog(auth.tenantId, deps);
      return {
        ok: r.ok,
        entries: r.entries,
        head: r.head,
        checkpoint: r.checkpoint,
        ...(r.firstBroken ? { firstBroken: r.firstBroken } : {}),
      };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/audit/export',
      summary:
        'The practice’s log as JSON lines (application/x-ndjson), ending with a signed checkpoint; check it offline with services/audit/src/verify-cli.ts',
      tags: ['audit'],
      auth: { permission: 'audit:read' },
    },
    async ({ auth, res }) => {
      const upTo = await countToExport(auth.tenantId, deps);
      // An export is an access to the whole log: recorded durably before any of it leaves.
      await recordEvents(deps.conn, [
        makeEvent({ type: 'audit.log.exported', tenantId: auth.tenantId, actor: auth.actor, data: { entries: upTo } }),
      ]);
      deps.onEventsRecorded?.();
      res.status(200);
      res.setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
      res.setHeader('Content-Disposition', 'attachment; filename="audit-log.jsonl"');
      await exportTenantLog(auth.tenantId, deps, res, deps.logger, upTo);
      res.end();
    },
  );

  api.route(
    {
      method: 'get',
      path: '/audit/public-key',
      summary:
        'The checkpoint-signing public key: the current key as a JWK (kid, alg EdDSA), with every published key in `keys` (a JWK Set) for rotation',
      tags: ['audit'],
      auth: 'public',
    },
    async () => {
      const jwks = await deps.keyring.publicJwks();
      return { ...jwks.keys[0], keys: jwks.keys };
    },
  );
}
