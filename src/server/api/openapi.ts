/**
 * @module server/api/openapi
 * The OpenAPI 3.1 description of `/api/v1`, served at `/api/v1/openapi.json`. Written by hand
 * beside the routes; `openapi.test.ts` checks that every registered route is described and every
 * described operation is registered.
 */
import { DEFAULT_ALERT_LIMIT } from './alerts.js';
import { DEFAULT_CERT_LIMIT, MAX_SCANNED, MAX_VIEWED, SEVERITIES } from './certificates.js';
import { DEFAULT_IODEF_LIMIT } from './iodef.js';
import { DEFAULT_FEED_LIMIT } from './issuances.js';
import { MAX_LIMIT, MAX_PARAM_LENGTH } from './params.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const errorResponse = (description: string): Json => ({
  description,
  content: { 'application/json': { schema: ref('Error') } },
});
const ok = (description: string, schema: Json): Json => ({
  description,
  content: { 'application/json': { schema } },
});
const limit = (fallback: number): Json => ({
  name: 'limit',
  in: 'query',
  description: `Items per page (1-${MAX_LIMIT}).`,
  schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: fallback },
});
const hashParameter: Json = {
  name: 'hash',
  in: 'path',
  required: true,
  description: 'TBS or certificate SHA-256 (hex), or a unique prefix of at least 8 digits.',
  schema: { type: 'string', pattern: '^[0-9a-fA-F]{8,64}$' },
};
const hostParameter: Json = {
  name: 'host',
  in: 'path',
  required: true,
  description: 'The host name (1-253 characters of A-Z a-z 0-9 . _ -).',
  schema: { type: 'string', maxLength: 253 },
};
const common: Json = {
  '401': errorResponse('No or an invalid token or session.'),
};
const bad = errorResponse('A parameter is invalid (the message names it).');
const cursor: Json = { type: ['string', 'null'], description: 'Opaque cursor of the next page.' };
const str: Json = { type: 'string' };
const strOrNull: Json = { type: ['string', 'null'] };

export function openApiDocument(version: string): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'certvigil HTTP API',
      version,
      description:
        'What the certvigil CT monitor found for your names, log health, alerts, CAA audits, IODEF ' +
        'reports and MITM baselines. Every route needs a token (`Authorization: Bearer cvt_…`, from ' +
        '`certvigil token create`) or a browser session; state changes need the `admin` role (and, ' +
        'with a session, the CSRF token). Every string that came from outside (certificate names and ' +
        'issuers, log errors, DNS answers, report fields) is sanitised: control, format (bidi) and ' +
        `separator characters appear as visible escapes such as \\u202E. Query values longer than ${MAX_PARAM_LENGTH} characters are refused.`,
    },
    security: [{ bearerAuth: [] }, { sessionCookie: [] }],
    paths: {
      '/api/v1/certificates': {
        get: {
          operationId: 'listCertificates',
          summary: 'Issuances found, newest first: search by name, filter, paginate',
          description:
            'Each item is the object `certvigil certs list --json` prints for the same state. With ' +
            `filters, at most ${MAX_SCANNED} issuances are examined per request (and at most ${MAX_VIEWED} ` +
            'classified for `known`/`severity`); the page may then be short, even empty, and `next` says ' +
            'where to go on (null: nothing more).',
          parameters: [
            {
              name: 'name',
              in: 'query',
              description:
                'Issuances with a DNS name equal to NAME or under it (`example.com` also finds ' +
                '`www.example.com` and `*.example.com`); `%.`, `*.` or `.` in front mean the same. ' +
                'Internationalised names are converted to A-labels.',
              schema: { type: 'string', maxLength: 253 },
            },
            { name: 'known', in: 'query', schema: { type: 'string', enum: ['true', 'false'] } },
            { name: 'severity', in: 'query', schema: { type: 'string', enum: [...SEVERITIES] } },
            {
              name: 'issuer',
              in: 'query',
              description: 'Case-insensitive substring of the issuer DN.',
              schema: { type: 'string', maxLength: 200 },
            },
            {
              name: 'since',
              in: 'query',
              description: 'Only certificates valid from (notBefore) this ISO 8601 date or date-time on.',
              schema: { type: 'string' },
            },
            limit(DEFAULT_CERT_LIMIT),
            { name: 'cursor', in: 'query', description: '`next` of the previous page.', schema: str },
          ],
          responses: {
            '200': ok('A page of certificates.', {
              type: 'object',
              required: ['certificates', 'next'],
              properties: { certificates: { type: 'array', items: ref('Certificate') }, next: cursor },
            }),
            '400': bad,
            ...(common as object),
          },
        },
      },
      '/api/v1/certificates/{hash}': {
        get: {
          operationId: 'getCertificate',
          summary: 'One issuance',
          parameters: [hashParameter],
          responses: {
            '200': ok('The issuance.', {
              type: 'object',
              required: ['certificate'],
              properties: { certificate: ref('Certificate') },
            }),
            '400': bad,
            '404': errorResponse('No issuance matches.'),
            '409': errorResponse('The prefix matches several issuances.'),
            ...(common as object),
          },
        },
      },
      '/api/v1/certificates/{hash}/pem': {
        get: {
          operationId: 'getCertificatePem',
          summary: 'The certificate as PEM, when the store holds its bytes',
          description:
            'The monitor keeps the logged certificate only in the alert of an issuance that was not ' +
            'ours: those are served as PEM; for the others the answer is 404 with the log entries to ' +
            'fetch it from (RFC 6962 get-entries or static-ct-api tiles).',
          parameters: [hashParameter],
          responses: {
            '200': { description: 'PEM', content: { 'application/x-pem-file': { schema: str } } },
            '400': bad,
            '404': errorResponse(
              'No issuance matches, or its bytes are not stored (`entries` says where it was logged).',
            ),
            '409': errorResponse('The prefix matches several issuances.'),
            ...(common as object),
          },
        },
      },
      '/api/v1/certificates/{hash}/authorize': {
        post: {
          operationId: 'authorizeCertificate',
          summary: 'Mark an issuance as ours (admin), as `certs authorize`',
          parameters: [hashParameter],
          requestBody: {
            required: false,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  additionalProperties: false,
                  properties: { note: { type: 'string', minLength: 1, maxLength: 1000 } },
                },
              },
            },
          },
          responses: {
            '200': ok('Authorised (by its TBS hash); the issuance as it now reads.', {
              type: 'object',
              required: ['authorized', 'certificate'],
              properties: { authorized: str, certificate: ref('Certificate') },
            }),
            '400': bad,
            '403': errorResponse('Not an admin, or (session) a missing CSRF token.'),
            '404': errorResponse('No issuance matches.'),
            '409': errorResponse('The prefix matches several issuances.'),
            ...(common as object),
          },
        },
      },
      '/api/v1/issuances': {
        get: {
          operationId: 'feedIssuances',
          summary: 'Cursor feed of issuances, oldest first (for pollers)',
          description:
            '`next` is always present: after the last item, or the `after` given when nothing is new ' +
            '(null only when there is nothing at all and no `after` was given). Poll with `after=next`.',
          parameters: [
            {
              name: 'after',
              in: 'query',
              description: 'A `next` value; absent: from the start.',
              schema: str,
            },
            limit(DEFAULT_FEED_LIMIT),
          ],
          responses: {
            '200': ok('A page of the feed.', {
              type: 'object',
              required: ['issuances', 'next'],
              properties: { issuances: { type: 'array', items: ref('Certificate') }, next: cursor },
            }),
            '400': bad,
            ...(common as object),
          },
        },
      },
      '/api/v1/logs': {
        get: {
          operationId: 'logHealth',
          summary: 'Per-log cursor and health, the alert outbox and the log list (as `certvigil status`)',
          responses: {
            '200': ok('The health report.', {
              type: 'object',
              required: ['now', 'logs', 'pendingAlerts', 'logList'],
              properties: {
                now: str,
                logs: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      logId: str,
                      url: str,
                      description: strOrNull,
                      treeSize: { type: ['integer', 'null'] },
                      position: { type: 'integer' },
                      verifiedSize: { type: ['integer', 'null'] },
                      backlog: { type: ['integer', 'null'] },
                      lastContact: strOrNull,
                      lastAttempt: strOrNull,
                      status: {
                        type: 'string',
                        enum: ['ok', 'unreachable', 'misbehaving', 'internal', 'unknown'],
                      },
                      lastError: strOrNull,
                      verifiedAt: strOrNull,
                      behindSeconds: { type: ['number', 'null'] },
                    },
                  },
                },
                pendingAlerts: { type: 'integer' },
                pendingAlertsTruncated: { type: 'boolean' },
                oldestPendingAlertAt: strOrNull,
                failingAlerts: { type: 'integer' },
                logList: { type: 'object' },
                lastCycleAt: strOrNull,
                inventoryErrors: { type: 'integer' },
              },
            }),
            ...(common as object),
          },
        },
      },
      '/api/v1/alerts': {
        get: {
          operationId: 'listAlerts',
          summary: 'The alert outbox, newest first',
          parameters: [
            {
              name: 'pending',
              in: 'query',
              description: 'true: not delivered yet; false: delivered.',
              schema: { type: 'string', enum: ['true', 'false'] },
            },
            limit(DEFAULT_ALERT_LIMIT),
          ],
          responses: {
            '200': ok('Alerts.', {
              type: 'object',
              required: ['alerts', 'total'],
              properties: {
                alerts: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      id: { type: 'integer' },
                      key: str,
                      kind: { type: 'string', enum: ['issuance', 'misbehaviour', 'health', 'malformed'] },
                      payload: {},
                      createdAt: str,
                      deliveredAt: strOrNull,
                      attempts: { type: 'integer' },
                      lastError: strOrNull,
                    },
                  },
                },
                total: { type: 'integer' },
              },
            }),
            '400': bad,
            ...(common as object),
          },
        },
      },
      '/api/v1/domains': {
        get: {
          operationId: 'listDomains',
          summary: 'Watched domains with their last CAA audit (`caa audit --json`)',
          responses: {
            '200': ok('Domains.', {
              type: 'object',
              required: ['watchListConfigured', 'auditConfigured', 'domains'],
              properties: {
                watchListConfigured: { type: 'boolean' },
                auditConfigured: { type: 'boolean' },
                domains: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      domain: str,
                      watched: { type: 'boolean' },
                      checkedAt: strOrNull,
                      audit: { description: 'The `caa audit --json` object (grade, findings), or null.' },
                    },
                  },
                },
              },
            }),
            ...(common as object),
          },
        },
      },
      '/api/v1/domains/{domain}/audit': {
        post: {
          operationId: 'auditDomain',
          summary: 'Run the CAA audit of a watched domain now and store it (admin)',
          parameters: [
            { name: 'domain', in: 'path', required: true, schema: { type: 'string', maxLength: 253 } },
          ],
          responses: {
            '200': ok('The new audit.', {
              type: 'object',
              properties: { domain: str, checkedAt: str, audit: {} },
            }),
            '400': bad,
            '403': errorResponse('Not an admin, or (session) a missing CSRF token.'),
            '404': errorResponse('Not a watched domain.'),
            '503': errorResponse('Audits are not configured (the server was started without --config).'),
            ...(common as object),
          },
        },
      },
      '/api/v1/iodef/reports': {
        get: {
          operationId: 'listIodefReports',
          summary: 'IODEF reports (RFC 7970) received from CAs, newest first, without the documents',
          parameters: [limit(DEFAULT_IODEF_LIMIT)],
          responses: {
            '200': ok('Reports.', {
              type: 'object',
              required: ['reports', 'total'],
              properties: {
                reports: { type: 'array', items: { type: 'object' } },
                total: { type: 'integer' },
              },
            }),
            '400': bad,
            ...(common as object),
          },
        },
      },
      '/api/v1/mitm': {
        get: {
          operationId: 'listMitmBaselines',
          summary:
            'MITM baselines learned by `certvigil mitm learn`, and the last `check mitm --record` result per target',
          parameters: [{ name: 'target', in: 'query', schema: { type: 'string', maxLength: 300 } }],
          responses: {
            '200': ok('Baselines and last results.', {
              type: 'object',
              required: ['baselines', 'results'],
              properties: {
                results: {
                  description:
                    'The last `certvigil check mitm --record` result of each target (of `target` only when given), by target.',
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['target', 'status', 'checkedAt', 'result'],
                    properties: {
                      target: str,
                      status: { type: 'string', enum: ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] },
                      checkedAt: str,
                      result: {
                        description:
                          'The plugin result as `check mitm --json` prints it (status, summary, findings, ports, probes, baselines); strings sanitised.',
                        type: 'object',
                        additionalProperties: true,
                      },
                    },
                  },
                },
                baselines: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      target: str,
                      port: { type: 'integer' },
                      jarms: { type: 'array', items: str },
                      lastHops: { type: 'array', items: { type: 'array', items: str } },
                      hopCounts: { type: 'array', items: { type: 'integer' } },
                      learnedAt: str,
                    },
                  },
                },
              },
            }),
            '400': bad,
            ...(common as object),
          },
        },
      },
      '/api/v1/hosts/{host}/inventory': {
        put: {
          operationId: 'pushHostInventory',
          summary: 'Replace what one host holds (`certvigil inventory push`)',
          description:
            'An API token only (no session): an admin token for any host, a viewer token for the host ' +
            'named like the token. The certificates it lists count as known, for this host.',
          parameters: [hostParameter],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['items'],
                  properties: {
                    host: str,
                    items: {
                      type: 'array',
                      items: {
                        type: 'object',
                        properties: {
                          certSha256: str,
                          tbsSha256: str,
                          spkiSha256: str,
                          dnsNames: { type: 'array', items: str },
                          notAfter: str,
                        },
                      },
                    },
                  },
                },
              },
            },
          },
          responses: {
            '200': ok('Stored.', {
              type: 'object',
              properties: { host: str, items: { type: 'integer' }, pushedAt: str },
            }),
            '400': bad,
            '403': errorResponse('Not a token, or a viewer token of another host.'),
            '413': errorResponse('The body is too large.'),
            '415': errorResponse('Not application/json.'),
            ...(common as object),
          },
        },
      },
      '/api/v1/hosts': {
        get: {
          operationId: 'listHosts',
          summary: 'Every host that pushed an inventory, with its item count and last push',
          responses: {
            '200': ok('Hosts.', {
              type: 'object',
              required: ['hosts'],
              properties: {
                hosts: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: { host: str, items: { type: 'integer' }, pushedAt: str },
                  },
                },
              },
            }),
            ...(common as object),
          },
        },
      },
      '/api/v1/hosts/{host}/check': {
        get: {
          operationId: 'checkHost',
          summary:
            "Is any certificate for the host's managed names unknown to it? (`certvigil check internal`)",
          parameters: [hostParameter],
          responses: {
            '200': ok('The check.', {
              type: 'object',
              properties: {
                host: str,
                pushedAt: str,
                managedNames: { type: 'array', items: str },
                unknown: { type: 'array', items: ref('Certificate') },
                unknownCount: { type: 'integer' },
                checked: { type: 'integer' },
                truncated: { type: 'boolean' },
              },
            }),
            '400': bad,
            '404': errorResponse('The host never pushed an inventory.'),
            ...(common as object),
          },
        },
      },
      '/api/v1/openapi.json': {
        get: {
          operationId: 'openApi',
          summary: 'This document',
          responses: { '200': ok('OpenAPI 3.1 document.', { type: 'object' }), ...(common as object) },
        },
      },
    },
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API token (`certvigil token create`).',
        },
        sessionCookie: { type: 'apiKey', in: 'cookie', name: 'certvigil_session' },
      },
      schemas: {
        Error: { type: 'object', required: ['error'], properties: { error: str } },
        Certificate: {
          type: 'object',
          description: 'One issuance (a precertificate and its certificate are one), as `certs list --json`.',
          required: ['tbsSha256', 'dnsNames', 'issuer', 'notBefore', 'notAfter', 'known', 'reasons'],
          properties: {
            tbsSha256: str,
            dnsNames: { type: 'array', items: str },
            issuer: str,
            notBefore: str,
            notAfter: str,
            known: { type: 'boolean' },
            knownBy: strOrNull,
            severity: { type: 'string', enum: [...SEVERITIES] },
            reasons: {
              type: 'array',
              items: {
                type: 'object',
                properties: { code: str, severity: str, message: str },
              },
            },
            entries: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  log: str,
                  index: { type: 'integer' },
                  type: str,
                  timestamp: { type: 'integer' },
                },
              },
            },
            certSha256s: { type: 'array', items: str },
            serial: str,
            spkiSha256: str,
            keyType: str,
            ipAddresses: { type: 'array', items: str },
            firstSeen: str,
            sources: { type: 'array', items: str },
            authorizations: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  hash: str,
                  matches: { type: 'string', enum: ['tbs', 'certificate', 'key'] },
                  note: strOrNull,
                  createdAt: str,
                },
              },
            },
          },
        },
      },
    },
  };
}
