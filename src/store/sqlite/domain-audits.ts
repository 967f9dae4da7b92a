/**
 * @module store/sqlite/domain-audits
 * The last `caa audit` of each watched domain (migration 6), replaced on every audit.
 */
import { SQLITE_COLUMNS, domainAuditFromRow } from '../rows.js';
import type { DomainAudits } from '../roles/web.js';
import type { Row } from '../rows.js';
import { checkDomainAudit } from '../web-codec.js';
import type { SqliteConnection } from './connection.js';

export function sqliteDomainAudits(c: SqliteConnection): DomainAudits {
  return {
    async putDomainAudit(record) {
      const r = checkDomainAudit(record);
      c.stmt(
        `INSERT INTO domain_audits (domain, result_json, checked_at) VALUES (?, ?, ?)
         ON CONFLICT (domain) DO UPDATE SET result_json = excluded.result_json, checked_at = excluded.checked_at`,
      ).run(r.domain, r.resultJson, r.checkedAt);
    },

    async listDomainAudits() {
      const rows = c
        .stmt('SELECT domain, result_json, checked_at FROM domain_audits ORDER BY domain')
        .all() as Row[];
      return rows.map((r) => domainAuditFromRow(r, SQLITE_COLUMNS));
    },
  };
}
