/**
 * The namespace topology moved into the product (src/lab/netns.ts, issue 17: `certvigil lab` uses it
 * for its traceroute part); this path stays for the tests that import it from here.
 */
export { createTopology, namespacesSupported } from '../../src/lab/index.js';
export type { ExecResult, HopAddresses, Topology } from '../../src/lab/index.js';
