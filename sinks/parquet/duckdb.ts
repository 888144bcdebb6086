// @duckdb/node-api is CommonJS: importing it from ESM makes Node scan every file of the package
// for named exports (cjs-module-lexer, ~130 ms at start-up on the 2-core box). require() skips
// that scan; types still come from the package.
import { createRequire } from 'node:module';
import type * as DuckDB from '@duckdb/node-api';

export const duckdb = createRequire(import.meta.url)('@duckdb/node-api') as typeof DuckDB;
