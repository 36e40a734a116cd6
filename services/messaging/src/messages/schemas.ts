// Shapes shared by the message and batch routes.
import { z } from 'zod';

const value = z.string().max(500);
/** Appointment and practice values for a template (`appointment.date`, `practice.name`, …). */
export const templateVariables = z.record(
  z.string().regex(/^(appointment|practice)\.[A-Za-z]{1,40}$/, 'appointment.<name> or practice.<name>'),
  value,
);
