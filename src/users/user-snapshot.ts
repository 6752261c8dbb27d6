import { IdentitySource, Role, UserEntity } from './user.entity';

/** What a request needs to know about its user; cached in Redis, shared by every replica. */
export interface UserSnapshot {
  id: string;
  username: string;
  email: string | null;
  role: Role;
  identitySource: IdentitySource;
  enabled: boolean;
  mustChangePassword: boolean;
}

export function snapshotOf(user: UserEntity): UserSnapshot {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    role: user.role,
    identitySource: user.identitySource,
    enabled: user.enabled,
    mustChangePassword: user.mustChangePassword,
  };
}

export const ROLE_RANK: Record<Role, number> = { readonly: 0, user: 1, admin: 2 };
