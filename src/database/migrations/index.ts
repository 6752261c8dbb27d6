import { InitialSchema1795560778707 } from './1795560778707-initial-schema';
import { CredentialDisabledBy1796621013987 } from './1796621013987-credential-disabled-by';
import { OidcIdentity1796900000000 } from './1796900000000-oidc-identity';
import { QuotaReservations1797000000000 } from './1797000000000-quota-reservations';
import { AuditQueryIndexes1797100000000 } from './1797100000000-audit-query-indexes';
import { QuotaScanDelta1797200000000 } from './1797200000000-quota-scan-delta';
import { CredentialNamespaces1797300000000 } from './1797300000000-credential-namespaces';
import { NamespaceQuotas1797400000000 } from './1797400000000-namespace-quotas';
import { NamespaceUsageIndex1797500000000 } from './1797500000000-namespace-usage-index';

/** Every migration, oldest first. Append only; never edit one that has been released. */
export const MIGRATIONS = [
  InitialSchema1795560778707,
  CredentialDisabledBy1796621013987,
  OidcIdentity1796900000000,
  QuotaReservations1797000000000,
  AuditQueryIndexes1797100000000,
  QuotaScanDelta1797200000000,
  CredentialNamespaces1797300000000,
  NamespaceQuotas1797400000000,
  NamespaceUsageIndex1797500000000,
];
