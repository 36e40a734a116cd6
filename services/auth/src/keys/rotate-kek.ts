// KEK rotation as an operator runs it (cli.ts rotate-kek), with the new KEK as KEK/KEK_ID
// and the old one in KEK_PREVIOUS: everything auth keeps under a KEK moves to the new one.
// Tenant keys are re-wrapped (user keys and sealed fields below them are untouched),
// signing keys' private halves re-sealed, and users still holding values sealed directly
// under a KEK (before the key hierarchy) or an email index made with an old KEK are
// migrated. Every step is a compare-and-set, so it is safe to rerun and to run while the
// service serves. Afterwards KEK_PREVIOUS can be dropped.
import { rewrapTenantKeys } from '@praxis/platform';
import type { AuthComponents } from '../common/components';

export interface KekRotationResult {
  kekId: string;
  tenantKeys: { rewrapped: number; alreadyCurrent: number; destroyed: number };
  signingKeys: { resealed: number; alreadyCurrent: number };
  users: { migrated: number; unreadable: number };
}

export async function rotateKek(deps: Pick<AuthComponents, 'keks' | 'keyRepo' | 'keys' | 'users'>): Promise<KekRotationResult> {
  const tenantKeys = await rewrapTenantKeys(deps.keyRepo, deps.keks);
  const signingKeys = await deps.keys.resealUnderCurrentKek();
  const users = await deps.users.resealAllLegacy();
  return { kekId: deps.keks.currentId, tenantKeys, signingKeys, users };
}
