export type { QueryNode, AndNode, OrNode, NotNode, TermNode, TermValue, CompareOp, NumberValue, RangeValue, AddressValue, TextValue, PatternValue, BoolValue } from './ast.js';
export { QuerySyntaxError } from './errors.js';
export {
  QUERY_FIELDS,
  FIELD_NAMES,
  PROTOCOL_NAMES,
  LEVEL_NAMES,
  SCOPE_LABELS,
  END_REASONS,
  findQueryField,
  closestFieldName,
} from './fields.js';
export type { FieldName, QueryField, QueryFieldKind } from './fields.js';
export { parseAddressOrCidr } from './ip-address.js';
export type { AddressParse } from './ip-address.js';
export { parseQuery, safeParseQuery, QUERY_LIMITS } from './parser.js';
export type { QueryParseResult } from './parser.js';
export { parseTimeBound } from './time.js';
export { suggest } from './suggest.js';
export type { QuerySuggestion, QuerySuggestions } from './suggest.js';
