// @praxis/contracts: the types and schemas every service agrees on. No I/O.
export * from './events';
export * from './permissions';
export * from './problem';
export * from './subject-rights';
export * from './tokens';
