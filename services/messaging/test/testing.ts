// Re-exports of the shared fixtures, plus the small helpers these suites share.
import { randomId } from '@praxis/platform';
export * from '@praxis/testing';

/** A text nobody else will write: the marker for the plaintext-at-rest check. */
export const marker = (tag: string) =>
  `Zq${tag}${randomId()
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 12)}`;
