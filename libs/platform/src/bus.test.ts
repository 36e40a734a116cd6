import { topicMatches } from './bus';

describe('topicMatches (AMQP topic bindings)', () => {
  it.each([
    ['#', 'records.patient.viewed', true],
    ['records.#', 'records.patient.viewed', true],
    ['records.#', 'auth.login.failed', false],
    ['records.*.viewed', 'records.note.viewed', true],
    ['records.*.viewed', 'records.patient.note.viewed', false],
    ['*.patient.erased', 'messaging.patient.erased', true],
    ['consent.erasure-request.created', 'consent.erasure-request.created', true],
    ['consent.erasure-request.created', 'consent.erasure-request.completed', false],
    ['records.#.viewed', 'records.viewed', true],
  ])('%s against %s → %s', (pattern, key, expected) => {
    expect(topicMatches(pattern, key)).toBe(expected);
  });
});
