export { compileFilterSql } from './compile-sql.js';
export type { CompileSqlOptions } from './compile-sql.js';
export { compileFilterPredicate } from './compile-predicate.js';
export type { FlowPredicate } from './compile-predicate.js';
export { compileAddressMatcher } from './address-matcher.js';
export type { AddressMatcher } from './address-matcher.js';
