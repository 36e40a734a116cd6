// Session revocations across regions. Each region has its own Redis, and a revoked
// session must be refused everywhere within seconds: revokeSession writes the mark to
// this region's Redis and publishes auth.session.revoked (through the outbox); this
// consumer, one queue per region on the federated praxis.broadcast exchange, writes the
// mark into its own region's Redis for revocations made in either region. Writing a mark
// twice is harmless (SET), so redeliveries need no idempotency store.
import { revokedSessionKey } from '@praxis/contracts';
import { BROADCAST_EXCHANGE, type Bus, type Redis } from '@praxis/platform';
import { z } from 'zod';

const revokedData = z.object({ sessionId: z.string().min(1).max(100), reason: z.string().min(1).max(60) });

export const revocationConsumerName = (region: string) => `revocations-${region}`;

export interface RevocationDeps {
  redis: Redis;
  /** How long a mark must outlive the revocation: the longest a session can last. */
  markTtlS: number;
}

export async function startRevocationConsumer(bus: Pick<Bus, 'consume'>, deps: RevocationDeps, region: string): Promise<void> {
  await bus.consume(revocationConsumerName(region), {
    exchange: BROADCAST_EXCHANGE,
    bindings: ['auth.session.revoked'],
    handler: async (event) => {
      const data = revokedData.parse(event.data);
      await deps.redis.set(revokedSessionKey(data.sessionId), data.reason, 'EX', deps.markTtlS);
    },
  });
}
