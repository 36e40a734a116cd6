// Redis (ioredis): sessions, rate limits, lockouts, short-lived codes and caches.
// Nothing in Redis is ever the only copy of a record.
import { Redis } from 'ioredis';

export type { Redis };

export async function connectRedis(url: string, name: string): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectionName: name,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  await redis.connect();
  return redis;
}

export async function pingRedis(redis: Redis): Promise<void> {
  const pong = await redis.ping();
  if (pong !== 'PONG') throw new Error('unexpected PING answer');
}
