import type { FastifyReply, FastifyRequest } from 'fastify';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "script-src 'self'",
  "connect-src 'self'",
  "font-src 'self' data:",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

const BASELINE: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'same-origin',
  'Permissions-Policy': 'geolocation=(), microphone=(), camera=(), payment=(), usb=()',
};

/**
 * Sets the baseline security headers before the handler runs, so a handler that needs a
 * different policy (a share's raw download, say) can still overwrite one. HSTS only when the
 * request arrived over TLS, directly or as reported by a trusted proxy.
 */
export function securityHeadersHook(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  void reply.headers(BASELINE);
  if (request.protocol === 'https')
    void reply.header('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
  done();
}
