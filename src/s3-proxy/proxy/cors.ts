import type { CorsRule } from '../../storage-backends/backend';

/** S3's CORS patterns: case-sensitive origins and case-insensitive headers, at most one `*` each. */
function matches(pattern: string, value: string, caseInsensitive: boolean): boolean {
  const p = caseInsensitive ? pattern.toLowerCase() : pattern;
  const v = caseInsensitive ? value.toLowerCase() : value;
  const star = p.indexOf('*');
  if (star === -1) return p === v;
  const head = p.slice(0, star);
  const tail = p.slice(star + 1);
  return v.length >= head.length + tail.length && v.startsWith(head) && v.endsWith(tail);
}

export interface CorsRequest {
  origin: string;
  method: string;
  /** Lower-case names from `Access-Control-Request-Headers` (preflight only). */
  headers?: readonly string[];
}

/** The first rule that allows the origin, method and (for a preflight) every requested header. */
export function matchCorsRule(rules: readonly CorsRule[], request: CorsRequest): CorsRule | undefined {
  return rules.find(
    (rule) =>
      rule.allowed_origins.some((origin) => matches(origin, request.origin, false)) &&
      rule.allowed_methods.some((method) => method.toUpperCase() === request.method) &&
      (request.headers ?? []).every((header) =>
        (rule.allowed_headers ?? []).some((allowed) => matches(allowed, header, true)),
      ),
  );
}

/** The response headers S3 sets for a request a rule allows. */
export function corsHeaders(rule: CorsRule, request: CorsRequest, preflight: boolean): Record<string, string> {
  const anyOrigin = rule.allowed_origins.includes('*');
  const headers: Record<string, string> = {
    'access-control-allow-origin': anyOrigin ? '*' : request.origin,
    vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
  };
  if (!anyOrigin) headers['access-control-allow-credentials'] = 'true';
  if (rule.expose_headers?.length) headers['access-control-expose-headers'] = rule.expose_headers.join(', ');
  if (preflight) {
    headers['access-control-allow-methods'] = rule.allowed_methods.map((m) => m.toUpperCase()).join(', ');
    if (request.headers?.length) headers['access-control-allow-headers'] = request.headers.join(', ');
    if (rule.max_age_seconds !== undefined) headers['access-control-max-age'] = String(rule.max_age_seconds);
  }
  return headers;
}

/** Splits `Access-Control-Request-Headers` into lower-case names. */
export function requestedHeaders(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
}
