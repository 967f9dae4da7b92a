/** Types of scripts/module-map.mjs, for the TypeScript tests that import it. */
import type { ESLint } from 'eslint';

export declare const LAYERS: Readonly<Record<string, number>>;
export declare const TYPES_ONLY: Readonly<Record<string, readonly string[]>>;
export declare const EXEMPTIONS: Readonly<Record<string, readonly string[]>>;
export declare function moduleOf(file: string): string | undefined;
export declare function crossing(
  file: string,
  specifier: string,
): { from: string; to: string; target: string; deep: boolean } | undefined;
export declare function reachFromOutside(
  file: string,
  specifier: string,
): { to: string; target: string; deep: boolean } | undefined;
export declare function violation(
  relFile: string,
  from: string,
  to: string,
  typeOnly: boolean,
): string | undefined;
export declare const plugin: ESLint.Plugin;
export interface CrossModuleImport {
  from: string;
  to: string;
  /** The importer, relative to the repository root. */
  file: string;
  /** The imported file, relative to the repository root. */
  target: string;
  typeOnly: boolean;
  deep: boolean;
  violation: string | undefined;
}
export declare function crossModuleImports(): Promise<CrossModuleImport[]>;
