import { Link } from '@tanstack/react-router';
import type { Schemas } from '../api/client';
import { t } from '../i18n';
import { formatBytes } from '../lib/format';
import { Meter, quotaTone } from './ui';

/** What a bucket holds, once size tracking has counted it. */
export function BucketSize({ bucket: b }: { bucket: Schemas['BucketDto'] }) {
  return (
    <>
      {b.size_tracked ? formatBytes(b.size_bytes) : '—'}
      {b.object_count !== undefined && <span className="ml-1 text-xs text-muted">{t('buckets.objects', { count: b.object_count })}</span>}
    </>
  );
}

/** The way to a bucket's settings (for administrators). */
export function SettingsLink({ bid, bucket }: { bid: string; bucket: string }) {
  return (
    <Link to="/b/$bid/$bucket/settings" params={{ bid, bucket }} className="rounded-md border border-line px-3 py-1.5 text-sm hover:bg-hover">
      {t('settings.open')}
    </Link>
  );
}

/** The bucket's usage against its hard cap (or its soft cap alone), when it has a quota. */
export function QuotaMeter({ bucket }: { bucket: Schemas['BucketDto'] }) {
  const quota = bucket.quota;
  if (!quota) return <span className="text-muted">—</span>;
  const used = bucket.size_bytes ?? 0;
  const cap = quota.hard_bytes ?? quota.soft_bytes;
  return (
    <div className="flex min-w-32 flex-col gap-1">
      <span className={`text-xs ${quota.hard_exceeded ? 'font-medium text-danger' : quota.soft_exceeded ? 'font-medium text-warn' : 'text-muted'}`}>
        {quota.hard_bytes !== undefined
          ? t('buckets.quotaOf', { used: formatBytes(used), hard: formatBytes(quota.hard_bytes) })
          : t('buckets.softOnly', { soft: formatBytes(quota.soft_bytes) })}
      </span>
      {cap !== undefined && <Meter value={used} max={cap} label={t('buckets.quota')} tone={quotaTone(quota)} />}
    </div>
  );
}
