export const SESSION_COOKIE = 'stowage_session';
export const CSRF_COOKIE = 'stowage_csrf';
export const CSRF_HEADER = 'x-csrf-token';
export const MUTATING_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
