/**
 * @module store/postgres/domain-audits
 * The last `caa audit` of each watched domain (migration 6), replaced on every audit.
 */
import { POSTGRES_COLUMNS, domainAuditFromRow } from '../rows.js';
import type { DomainAudits } from '../roles/web.js';
import type { Row } from '../rows.js';
import { checkDomainAudit } from '../web-codec.js';
import type { Sql } from './connection.js';

export function postgresDomainAudits(sql: Sql): DomainAudits {
  return {
    async putDomainAudit(record) {
      const r = checkDomainAudit(record);
      await sql`
      INSERT INTO domain_audits (domain, result_json, checked_at)
      VALUES (${r.domain}, ${r.resultJson}, ${r.checkedAt})
      ON CONFLICT (domain) DO UPDATE SET result_json = excluded.result_json, checked_at = excluded.checked_at`;
    },

    async listDomainAudits() {
      const rows = await sql<
        Row[]
      >`SELECT domain, result_json, checked_at FROM domain_audits ORDER BY domain`;
      return rows.map((r) => domainAuditFromRow(r, POSTGRES_COLUMNS));
    },
  };
}
