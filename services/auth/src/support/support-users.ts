// Platform support users: created by an operator (cli.ts create-support-user), living under
// the reserved tenant id `platform`. 2FA is mandatory: their first login enrols TOTP.
import { isDuplicateKeyError, randomId } from '@praxis/platform';
import type { AuthComponents } from '../common/components';
import { assertStrongPassword } from '../common/passwords';
import { PLATFORM_TENANT, normaliseEmail } from '../users/model';

export type SupportUserDeps = Pick<AuthComponents, 'hasher' | 'users'>;

export async function createSupportUser(deps: SupportUserDeps, input: { email: string; name: string; password: string }): Promise<string> {
  assertStrongPassword(input.password, 'password', [input.email, input.name]);
  const now = new Date();
  const userId = randomId('sup');
  try {
    await deps.users.create(
      {
        _id: userId,
        tenantId: PLATFORM_TENANT,
        email: normaliseEmail(input.email),
        name: input.name,
        role: 'support',
        passwordHash: await deps.hasher.hash(input.password),
        disabled: false,
        createdAt: now,
        updatedAt: now,
      },
      [],
    );
  } catch (err) {
    if (isDuplicateKeyError(err)) throw new Error('a support user with that email exists', { cause: err });
    throw err;
  }
  return userId;
}
