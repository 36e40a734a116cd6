// Key rotation as an operator runs it (cli.ts rotate-keys): rotate, and publish the fact.
import { makeEvent } from '@praxis/platform';
import type { AuthComponents } from '../common/components';
import { VERIFIER_MAX_CACHE_MS } from './key-store';
import { systemActor } from '../common/events';
import { PLATFORM_TENANT } from '../users/model';

/** What a signing-key rotation uses: the key store and events. */
export type RotateDeps = Pick<AuthComponents, 'events' | 'keys'>;

/** Unless forced, the next key must have been published long enough for every verifier to hold it. */
export async function rotateSigningKeys(deps: RotateDeps, opts: { force?: boolean } = {}): Promise<{ activated: string; next: string }> {
  const result = await deps.keys.rotate(opts.force ? {} : { minNextAgeMs: VERIFIER_MAX_CACHE_MS });
  await deps.events.recordAccess([
    makeEvent({ type: 'auth.signing-key.rotated', tenantId: PLATFORM_TENANT, actor: systemActor, data: { keyId: result.activated } }),
  ]);
  return result;
}
