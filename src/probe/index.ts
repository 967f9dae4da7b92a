/**
 * @module probe
 * What other modules use of src/probe/ (ARCHITECTURE.md: imports across modules go through index.ts).
 */
export { parsePin } from './checks.js';
export { hostPort, parseHost, parseHostPort } from './connect.js';
export { matchTlsa } from './dane.js';
export type { TlsaRecord } from './dane.js';
export { checkEndpoint } from './endpoint.js';
export type { EndpointCheckOptions, EndpointCheckResult, LogsForCheck } from './endpoint-types.js';
export { jarmFingerprint, jarmMany } from './jarm-scan.js';
// The JARM constants and probe-building pieces, for the test vectors (test/jarm-vectors.test.ts and
// the reference implementation in test/fixtures/jarm/) to check the algorithm against.
export { JARM_EMPTY_RAW, JARM_ZERO_HASH, reorder } from './jarm.js';
export type { JarmProbeSpec, JarmRandomness } from './jarm.js';
export { SERVER_KEY_TYPES, parseKeyTypes } from './key-types.js';
export type { ServerKeyType } from './key-types.js';
export { EMPTY_JARM } from './mitm-compare.js';
export type { PortBaseline, TraceResult } from './mitm-types.js';
export { checkMitm, probeForLearning, storeLearned } from './mitm.js';
export type { MitmProbeOptions } from './mitm.js';
export { formatPluginOutput, safeJson, statusText, unknownStatusLine, worstStatus } from './plugin-output.js';
export { chooseProxy } from './proxy.js';
export type { ProxySpec } from './proxy.js';
export { publicRootHashes, readSystemBundle } from './public-roots.js';
export { REVOCATION_MODES, UNREACHABLE_SEVERITIES } from './revocation/settings.js';
export type { RevocationMode, UnreachableSeverity } from './revocation/settings.js';
export { DEFAULT_PORTS, negotiateStartTls } from './starttls.js';
export { TlsHelloError, probeTlsExtensionScts, readServerHello } from './tls-hello.js';
export type { ServerHelloFacts } from './tls-hello.js';
export { MIN_TLS_VALUES, WEAK_CIPHER_MODES } from './tls-policy.js';
export type { MinTls, TlsPolicySettings, WeakCipherMode } from './tls-policy.js';
export { PLUGIN_EXIT, STARTTLS_PROTOCOLS } from './types.js';
export type { Finding, PerfDatum, PluginStatus, StartTlsProtocol } from './types.js';
export type {
  ProbeErrorCode,
  RevocationErrorCode,
  StartTlsErrorCode,
  TlsHelloErrorCode,
  TraceErrorCode,
} from './errors.js';
export { DEFAULT_CERTSPOTTER_URL, DEFAULT_CRTSH_URL } from './ct-presence-apis.js';
// History backfill (issue 18): crt.sh / Cert Spotter API v1 → the store, marked with the source.
export { runBackfill } from './backfill.js';
export type { BackfillOptions, BackfillProgress, BackfillSource, BackfillSummary } from './backfill.js';
