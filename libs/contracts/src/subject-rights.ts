// The data-subject rights participants (Art. 15 export, Art. 17 erasure): every service
// that holds data about a patient. Consent collates a subject access request from each
// one's `GET /internal/patients/:id/export?requestId=` and, for an erasure, waits for a
// `<service>.patient.erased` answer from each one that erases. A new service takes part
// by adding itself here (and serving those two things); see docs/consent.md.
export const subjectRightsParticipants = [
  { service: 'records', exports: true, erases: true },
  { service: 'consent', exports: true, erases: true },
  { service: 'audit', exports: true, erases: false }, // access log; the log is append-only
  { service: 'messaging', exports: true, erases: true },
] as const;

export type SubjectRightsParticipant = {
  service: string;
  exports: boolean;
  erases: boolean;
};

export type ParticipantName = (typeof subjectRightsParticipants)[number]['service'];
