// The shared fixtures (libs/testing), plus the one small helper these suites add.
import { randomId } from '@praxis/platform';
export * from '@praxis/testing';

export const randomIdForTests = (prefix: string) => randomId(prefix);
