import { can, permissionsOf } from './permissions';

describe('permission matrix', () => {
  it('lets receptionists manage demographics but never read or write clinical notes', () => {
    expect(can({ role: 'receptionist' }, 'patient:write')).toBe(true);
    expect(can({ role: 'receptionist' }, 'consent:write')).toBe(true);
    expect(can({ role: 'receptionist' }, 'note:read')).toBe(false);
    expect(can({ role: 'receptionist' }, 'note:write')).toBe(false);
  });

  it('lets clinicians read and write notes but not manage users or read the audit log', () => {
    expect(can({ role: 'clinician' }, 'note:read')).toBe(true);
    expect(can({ role: 'clinician' }, 'user:manage')).toBe(false);
    expect(can({ role: 'clinician' }, 'audit:read')).toBe(false);
  });

  it('gives admins everything a practice can do, but no service-only permission', () => {
    expect(can({ role: 'admin' }, 'audit:read')).toBe(true);
    expect(can({ role: 'admin' }, 'dsr:manage')).toBe(true);
    expect(can({ role: 'admin' }, 'internal:subject-data')).toBe(false);
  });

  it('gives support nothing without a scope, and only test patients with scope settings', () => {
    expect(permissionsOf({ role: 'support' }).size).toBe(0);
    expect(can({ role: 'support', scope: 'settings' }, 'patient:read-test')).toBe(true);
    expect(can({ role: 'support', scope: 'settings' }, 'patient:read')).toBe(false);
    expect(can({ role: 'support', scope: 'records' }, 'patient:read')).toBe(true);
    expect(can({ role: 'support', scope: 'records' }, 'support-grant:manage')).toBe(false);
  });

  it('lets services only fetch and erase subject data and read contact details', () => {
    expect([...permissionsOf({ role: 'service' })]).toEqual([
      'internal:subject-data',
      'internal:patient-contact',
      'internal:practice-profile',
    ]);
  });
});
