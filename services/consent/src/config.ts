// The consent service's environment, parsed once at boot. The only module that reads
// process.env. KEK wraps consent's tenant keys (which wrap its per-patient keys);
// AUTH_URL and SERVICE_CLIENT_SECRET get service tokens for the participants' internal
// routes; each participant of subject-rights requests is reached at its <NAME>_URL.
import { subjectRightsParticipants } from '@praxis/contracts';
import { baseServiceConfig, configFields, kekConfigFields, loadConfig } from '@praxis/platform';
import { z } from 'zod';

const seconds = (fallback: number, min = 1) => z.coerce.number().int().min(min).default(fallback);
const DAY = 24 * 3600;
const participantNames = subjectRightsParticipants.map((p) => p.service) as string[];

export const consentConfigSchema = baseServiceConfig
  .extend({
    PORT: configFields.port(8083),
    ...kekConfigFields,
    AUTH_URL: configFields.httpUrl,
    /** This service's client secret for service tokens (auth holds it in SERVICE_CLIENT_SECRETS). */
    SERVICE_CLIENT_SECRET: z.string().min(32),
    RECORDS_URL: configFields.httpUrl.optional(),
    AUDIT_URL: configFields.httpUrl.optional(),
    MESSAGING_URL: configFields.httpUrl.optional(),
    /**
     * Which registry participants (libs/contracts/src/subject-rights.ts) this deployment
     * runs, comma-separated; default every one. Each one but consent needs its <NAME>_URL.
     */
    SUBJECT_RIGHTS_PARTICIPANTS: z
      .string()
      .default(participantNames.join(','))
      .transform((s) =>
        s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      )
      .refine((list) => list.every((n) => participantNames.includes(n)), `each one of ${participantNames.join(', ')}`),
    /** Life of an emailed privacy-notice link (Art. 13). */
    NOTICE_LINK_TTL_S: seconds(14 * DAY),
    /** How long a completed subject access export can be downloaded. */
    SAR_EXPORT_TTL_S: seconds(7 * DAY),
    /** Re-send an erasure request to participants that have not answered after this long. */
    ERASURE_RETRY_S: seconds(60),
    /** An erasure not answered by every participant by then fails, naming the missing ones. */
    ERASURE_DEADLINE_S: seconds(DAY),
    /** How often the background work (collation, expiry, erasure retries) looks for work. */
    RUNNER_INTERVAL_MS: z.coerce.number().int().min(50).default(5_000),
    /** A replica collating a subject access request holds it this long; another replica (or a restart) takes over after. */
    SAR_COLLATION_LEASE_S: seconds(120),
    /** A subject access participant that is unreachable (or answers 5xx/429) is asked again after this long… */
    SAR_RETRY_S: seconds(30),
    /** …for up to this long after its first failure; then the request fails, naming it and why. */
    SAR_RETRY_WINDOW_S: seconds(3600),
    /** Prefix of the bus consumers' names, so a test or e2e run can consume privately. Empty in production. */
    CONSENT_CONSUMER_PREFIX: z
      .string()
      .regex(/^([a-z0-9-]{1,40}-)?$/, 'lowercase letters, digits and dashes, ending in a dash')
      .default(''),
  })
  .superRefine((c, ctx) => {
    const urls: Record<string, string | undefined> = { records: c.RECORDS_URL, audit: c.AUDIT_URL, messaging: c.MESSAGING_URL };
    for (const name of c.SUBJECT_RIGHTS_PARTICIPANTS) {
      if (name !== 'consent' && !urls[name])
        ctx.addIssue({
          code: 'custom',
          path: [`${name.toUpperCase()}_URL`],
          message: `required while ${name} takes part in subject-rights requests`,
        });
    }
  });
export type ConsentConfig = z.infer<typeof consentConfigSchema>;

export function loadConsentConfig(env: Record<string, string | undefined> = process.env): ConsentConfig {
  return loadConfig(consentConfigSchema, env);
}

/** The participants this deployment runs, with where to reach each one. */
export function participantsOf(c: ConsentConfig): { service: string; exports: boolean; erases: boolean; url?: string }[] {
  const urls: Record<string, string | undefined> = { records: c.RECORDS_URL, audit: c.AUDIT_URL, messaging: c.MESSAGING_URL };
  return subjectRightsParticipants
    .filter((p) => c.SUBJECT_RIGHTS_PARTICIPANTS.includes(p.service))
    .map((p) => ({ service: p.service, exports: p.exports, erases: p.erases, ...(urls[p.service] ? { url: urls[p.service] } : {}) }));
}
