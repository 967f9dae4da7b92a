/**
 * @module x509/tbs-rewrite
 * The TBSCertificate that a precertificate and its final certificate share (RFC 6962 §3.2): the
 * TBS with the CT poison extension (precertificate side) and the embedded SCT list extension
 * (final-certificate side) removed. Logs put this TBS into a precert entry's MerkleTreeLeaf, and
 * it is what an embedded SCT signs, so its hash joins a precertificate to its certificate.
 *
 * Choices, compared with certificate-transparency-go (`x509util.BuildPrecertTBS` /
 * `x509.RemoveSCTList`, which unmarshal the TBS, drop the extension and `asn1.Marshal` it again):
 * - When no extension is left, the whole `[3]` field is dropped: ct-go's `Extensions` field is
 *   `asn1:"omitempty,optional,explicit,tag:3"`, so an empty list is not encoded (an empty SEQUENCE
 *   would also violate RFC 5280's `SIZE (1..MAX)`).
 * - Everything else is kept byte for byte (only the three enclosing lengths are recomputed), where
 *   ct-go re-encodes every field. For DER input the two agree; they could differ only for input
 *   that is not DER in ways `walkTbs` tolerates (an explicit v1 version, padded serial, a time
 *   type outside RFC 5280's year ranges), which ct-go would normalise. The CA/B Forum BRs §7.1.2.9
 *   require the other extensions to be byte-identical between precertificate and certificate,
 *   which splicing preserves by construction.
 * - The precertificate-signing-certificate variant of §3.2 (issuer and authorityKeyIdentifier
 *   rewritten to the real issuer's) is not applied: it needs the issuing chain, and the TBS of a
 *   log's precert entry already has it applied.
 */
import { headerLength, writeHeader, TAG_SEQUENCE, contextConstructed } from './der.js';
import type { ExtensionScan } from './extensions.js';
import type { TbsLayout } from './tbs.js';

/** True when the TBS has a poison or SCT-list extension, i.e. the rewrite changes it. */
export function hasCtExtensions(scan: ExtensionScan): boolean {
  return scan.poisonStart >= 0 || scan.sctStart >= 0;
}

/**
 * Builds the TBS of `layout` (in `buf`) without the poison and SCT-list extensions found by `scan`.
 * Writes into `into` when it is large enough (the hashing path reuses one scratch buffer, since a
 * fresh typed array per certificate was a measurable share of the hot path) and returns the view
 * of the result; otherwise allocates. Callers check `hasCtExtensions` first and use the input
 * unchanged when it is false.
 */
export function buildTbsWithoutCt(
  buf: Uint8Array,
  layout: TbsLayout,
  scan: ExtensionScan,
  into?: Uint8Array,
): Uint8Array {
  // The two removal ranges (whole Extension elements inside the SEQUENCE) in byte order; an absent
  // extension is the empty range at the end of the list.
  const listEnd = layout.extsEnd;
  let aStart = scan.poisonStart >= 0 ? scan.poisonStart : listEnd;
  let aEnd = scan.poisonStart >= 0 ? scan.poisonEnd : listEnd;
  let bStart = scan.sctStart >= 0 ? scan.sctStart : listEnd;
  let bEnd = scan.sctStart >= 0 ? scan.sctEnd : listEnd;
  if (bStart < aStart) {
    const s = aStart;
    const e = aEnd;
    aStart = bStart;
    aEnd = bEnd;
    bStart = s;
    bEnd = e;
  }

  const seqContentStart = scan.listStart;
  const seqLen = listEnd - seqContentStart - (aEnd - aStart) - (bEnd - bStart);
  const explicitLen = seqLen === 0 ? 0 : headerLength(seqLen) + seqLen;
  const extsTotal = seqLen === 0 ? 0 : headerLength(explicitLen) + explicitLen;
  const prefixLen = layout.extsStart - layout.contentStart;
  const tbsLen = prefixLen + extsTotal;
  const total = headerLength(tbsLen) + tbsLen;

  const out = into !== undefined && into.length >= total ? into : new Uint8Array(total);
  let p = writeHeader(out, 0, TAG_SEQUENCE, tbsLen);
  out.set(buf.subarray(layout.contentStart, layout.extsStart), p);
  p += prefixLen;
  if (seqLen > 0) {
    p = writeHeader(out, p, contextConstructed(3), explicitLen);
    p = writeHeader(out, p, TAG_SEQUENCE, seqLen);
    out.set(buf.subarray(seqContentStart, aStart), p);
    p += aStart - seqContentStart;
    out.set(buf.subarray(aEnd, bStart), p);
    p += bStart - aEnd;
    out.set(buf.subarray(bEnd, listEnd), p);
  }
  return out.length === total ? out : out.subarray(0, total);
}
