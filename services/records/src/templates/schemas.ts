// The template variables a caller may supply (appointment and practice values), nested or
// dotted, shared by template rendering and contact routes.
import { z } from 'zod';
import { appointmentVariables, practiceVariables } from './render';
import type { SuppliedVariables } from './use-cases';

const value = z.string().max(500);
const appointment = z.strictObject(
  Object.fromEntries(appointmentVariables.map((v) => [v, value.optional()])) as Record<
    (typeof appointmentVariables)[number],
    z.ZodOptional<typeof value>
  >,
);
const practice = z.strictObject(
  Object.fromEntries(practiceVariables.map((v) => [v, value.optional()])) as Record<
    (typeof practiceVariables)[number],
    z.ZodOptional<typeof value>
  >,
);
const dotted = Object.fromEntries(
  [...appointmentVariables.map((v) => `appointment.${v}`), ...practiceVariables.map((v) => `practice.${v}`)].map((k) => [
    k,
    value.optional(),
  ]),
);
/** `{ appointment: { date }, practice: { name } }` or `{ "appointment.date": … }`; patient values come from the record only. */
export const templateVariablesBody = z.strictObject({ appointment: appointment.optional(), practice: practice.optional(), ...dotted });
export function flattenVariables(v: z.infer<typeof templateVariablesBody> | undefined): SuppliedVariables {
  const out: SuppliedVariables = {};
  if (!v) return out;
  for (const [k, val] of Object.entries(v)) {
    if (typeof val === 'string') out[k] = val;
    else if (val && typeof val === 'object') for (const [kk, vv] of Object.entries(val)) if (typeof vv === 'string') out[`${k}.${kk}`] = vv;
  }
  return out;
}
