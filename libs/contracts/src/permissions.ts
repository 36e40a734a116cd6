// The permission matrix: the single source of truth for who may do what.
// Every service asks `can(principal, permission)`; nobody compares role strings.
export const tenantRoles = ['admin', 'clinician', 'receptionist'] as const;
export type TenantRole = (typeof tenantRoles)[number];

/** Roles a token can carry: a practice role, platform support inside a grant, or a service. */
export type Role = TenantRole | 'support' | 'service';

export const supportScopes = ['settings', 'records'] as const;
export type SupportScope = (typeof supportScopes)[number];

export const permissions = [
  'tenant:read',
  'tenant:manage',
  'user:read',
  'user:manage',
  'support-grant:manage',
  'support-session:read',
  'patient:read',
  'patient:write',
  /** Only test patients: what support staff with scope `settings` may touch. */
  'patient:read-test',
  'patient:write-test',
  'note:read',
  'note:write',
  'template:manage',
  'template:render',
  'consent:read',
  'consent:write',
  'dsr:manage',
  'message:send',
  'message:read',
  'sms-credit:read',
  'sms-credit:purchase',
  'audit:read',
  /** Service-to-service calls: subject export and erasure of a service's part. */
  'internal:subject-data',
  /** Service-to-service calls: a patient's contact details and template rendering (messaging → records). */
  'internal:patient-contact',
  /** Service-to-service calls: a practice's display name and slug (consent's public notice page → auth). */
  'internal:practice-profile',
] as const;
export type Permission = (typeof permissions)[number];

const staffCommon: Permission[] = [
  'tenant:read',
  'patient:read',
  'patient:write',
  'patient:read-test',
  'patient:write-test',
  'template:render',
  'consent:read',
  'consent:write',
  'message:send',
  'message:read',
  'sms-credit:read',
];

export const rolePermissions: Readonly<Record<Role, readonly Permission[]>> = {
  admin: permissions.filter((p) => !p.startsWith('internal:')),
  clinician: [...staffCommon, 'note:read', 'note:write'],
  // Receptionists manage demographics, consent and messages but never read clinical notes.
  receptionist: [...staffCommon],
  // Support gets nothing by role alone; its permissions come from the grant's scope.
  support: [],
  service: ['internal:subject-data', 'internal:patient-contact', 'internal:practice-profile'],
};

export const supportScopePermissions: Readonly<Record<SupportScope, readonly Permission[]>> = {
  settings: ['tenant:read', 'user:read', 'template:manage', 'template:render', 'patient:read-test', 'patient:write-test'],
  records: [
    'tenant:read',
    'user:read',
    'template:manage',
    'template:render',
    'patient:read',
    'patient:write',
    'patient:read-test',
    'patient:write-test',
    'note:read',
    'consent:read',
    'message:read',
  ],
};

export interface Principal {
  role: Role;
  /** Present on support-mode tokens: the scope of the grant the session runs under. */
  scope?: SupportScope;
}

export function permissionsOf(principal: Principal): ReadonlySet<Permission> {
  if (principal.role === 'support') {
    return new Set(principal.scope ? supportScopePermissions[principal.scope] : []);
  }
  return new Set(rolePermissions[principal.role] ?? []);
}

export function can(principal: Principal, permission: Permission): boolean {
  return permissionsOf(principal).has(permission);
}
