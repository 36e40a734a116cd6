// Service-to-service tokens (the contract in docs/platform.md): a source of short-lived
// access tokens with `role: 'service'` for one practice, which a service presents on
// another's internal routes.
export interface ServiceTokenSource {
  tokenFor(tenantId: string): Promise<string>;
}
