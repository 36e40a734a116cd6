// Events of the platform plumbing itself (diagnostics), owned by no domain service.
import { z } from 'zod';
import { count, defineEvent, id } from './envelope';

export const platformEvents = [
  defineEvent(
    'platform.probe.sent',
    1,
    z.strictObject({ seq: count, run: id }),
    'A diagnostic probe sent through the bus (tests, smoke checks, benchmarks).',
  ),
] as const;
