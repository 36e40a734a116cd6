// Events published by the audit service. Checkpoints are deliberately not events: audit
// consumes every event, so each would append an entry needing another checkpoint
// (docs/audit.md).
import { z } from 'zod';
import { count, defineEvent } from './envelope';

export const auditEvents = [
  defineEvent('audit.log.exported', 1, z.strictObject({ entries: count }), 'An admin exported the practice’s audit log.'),
] as const;
