// Re-exports of the shared fixtures, plus the few small helpers these suites share.
import { randomId } from '@praxis/platform';
export * from '@praxis/testing';

export const randomIdForTests = (prefix: string) => randomId(prefix);

/** A name nobody else will write: the marker for the plaintext-at-rest checks. */
export const marker = (tag: string) =>
  `Zq${tag}${randomId()
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 12)}`;
