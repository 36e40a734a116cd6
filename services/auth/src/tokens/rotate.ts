// Key rotation as an operator runs it (cli.ts rotate-keys): rotate, and publish the fact.
import { makeEvent, recordEvents } from '@praxis/platform';
import type { AuthComponents } from '../common/components';
import { VERIFIER_MAX_CACHE_MS } from './key-store';
import { systemActor } from '../common/events';
import { PLATFORM_TENANT } from '../users/model';

/** Unless forced, the next key must have been published long enough for every verifier to hold it. */
export async function rotateSigningKeys(
  deps: AuthComponents,
  opts: { force?: boolean } = {},
): Promise<{ activated: string; next: string }> {
  const result = await deps.keys.rotate(opts.force ? {} : { minNextAgeMs: VERIFIER_MAX_CACHE_MS });
  await recordEvents(deps.mongo, [
    makeEvent({ type: 'auth.signing-key.rotated', tenantId: PLATFORM_TENANT, actor: systemActor, data: { keyId: result.activated } }),
  ]);
  deps.relay.nudge();
  return result;
}
