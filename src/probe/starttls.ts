/**
 * @module probe/starttls
 * The STARTTLS dialogues, one module per protocol under `starttls/`, and `negotiateStartTls`, the
 * one entry point `endpoint.ts`, `jarm-scan.ts` and `mitm` use (starttls/index.ts says why they are
 * hand-written and how they are bounded). This file keeps the import path those callers use.
 */
export * from './starttls/index.js';
