/**
 * @module caa/audit
 * `caa audit`: collect a domain's CAA setup from every authoritative server (collect.ts) and turn
 * it into graded findings with fixes (findings.ts, pure).
 */
export { collectAudit, randomCase } from './collect.js';
export type { CollectOptions } from './collect.js';
export { auditFindings, buildReport, gradeFor, worstSeverity } from './findings.js';
export type * from './types.js';
