// Which practices belong to this deployment, for consent's erasure and notice requests. On
// a broker shared by several deployments (test runs, a staging copy beside production) every
// messaging sees every practice's requests; it must answer only for its own, as records does
// (docs/consent.md: a stranger's answer must not complete another deployment's saga).
// A practice is ours when messaging holds a tenant key for it, or — a practice that never
// sent a message has no key yet, and consent's saga still needs its answer — when this
// deployment's auth knows it: auth issues a service token only for its own practices and
// answers 404 for any other. Any other failure (auth down) is thrown, so the bus retries
// rather than guessing.
import { type ServiceTokenSource, ServiceTokenRefusedError } from '@praxis/platform';

/** Does this deployment's auth know the practice? */
export type PracticeDirectory = (tenantId: string) => Promise<boolean>;

export function authPracticeDirectory(tokens: ServiceTokenSource): PracticeDirectory {
  return async (tenantId) => {
    try {
      await tokens.tokenFor(tenantId);
      return true;
    } catch (err) {
      if (err instanceof ServiceTokenRefusedError && err.status === 404) return false;
      throw err;
    }
  };
}
