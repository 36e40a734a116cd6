// Key rotation as an operator runs it (cli.ts rotate-keys): rotate, and publish the fact.
import { makeEvent, recordEvents } from '@praxis/platform';
import type { AuthDeps } from '../deps';
import { systemActor } from '../shared/events';
import { PLATFORM_TENANT } from '../users/model';

export async function rotateSigningKeys(deps: AuthDeps): Promise<{ activated: string; next: string }> {
  const result = await deps.keys.rotate();
  await recordEvents(deps.mongo, [makeEvent({ type: 'auth.signing-key.rotated', tenantId: PLATFORM_TENANT, actor: systemActor, data: { keyId: result.activated } })]);
  return result;
}
