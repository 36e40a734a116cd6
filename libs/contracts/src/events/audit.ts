// Events published by the audit service.
import { z } from 'zod';
import { count, defineEvent, id } from './envelope';

export const auditEvents = [
  defineEvent('audit.log.exported', 1, z.strictObject({ entries: count }), 'An admin exported the practice’s audit log.'),
  defineEvent('audit.checkpoint.signed', 1, z.strictObject({ seq: count, keyId: id }), 'A checkpoint of the log head was signed.'),
] as const;
