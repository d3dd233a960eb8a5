/** The audit's verdict names, on their own so the CLI can list them without loading the audit (start-up time). */
export const AUDIT_VERDICTS = ['ok', 'missing-platform', 'config-mismatch', 'binary-mismatch', 'page-size-risk', 'not-found', 'unreachable'] as const;
export type AuditVerdict = (typeof AUDIT_VERDICTS)[number];
