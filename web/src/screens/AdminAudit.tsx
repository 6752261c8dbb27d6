import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, unwrap } from '../api/client';
import { Button, DataTable, ErrorMessage, Field, Loading, Page } from '../components/ui';
import { t } from '../i18n';
import { type AuditFilters as Filters, auditQuery, EMPTY_FILTERS as EMPTY } from '../lib/audit';
import { formatDate } from '../lib/format';

const PAGE_SIZES = [10, 50, 100, 500];
const STATUSES = ['', 'ok', 'error', 'denied', 'aborted', 'pending'];
/** Suggestions for the action filter (any action or prefix may be typed). */
const ACTIONS = ['auth.', 'auth.login', 'auth.logout', 'backend.', 'bucket.', 'bucket.create', 'bucket.delete', 'object.', 'object.upload', 'object.delete', 'object.copy', 'share.', 's3_anonymous.', 's3.proxy.*', 'quota.', 'user.'];

/**
 * The audit log, newest first: filters, keyset pages through the API's `next_cursor` (the cursors
 * of the pages before are kept, so "Previous" goes back without an offset), and a CSV export of
 * everything the same filters match.
 */
export default function AdminAudit() {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  // cursors[i] is the cursor that fetches page i (undefined for the first).
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [open, setOpen] = useState<number>();
  const [limit, setLimit] = useState(50);
  const query = auditQuery(applied);
  const cursor = cursors[cursors.length - 1];
  const page = useQuery({
    queryKey: ['audit', query, limit, cursor],
    queryFn: () => unwrap(api.GET('/api/admin/audit', { params: { query: { ...query, limit, ...(cursor ? { cursor } : {}) } } })),
    placeholderData: keepPreviousData,
  });
  const users = useQuery({ queryKey: ['users'], queryFn: () => unwrap(api.GET('/api/admin/users', { params: { query: {} } })), staleTime: 60_000 });
  const backends = useQuery({ queryKey: ['backends'], queryFn: () => unwrap(api.GET('/api/backends')), staleTime: 60_000 });
  const csv = `/api/admin/audit.csv?${new URLSearchParams(query)}`;
  const set = (key: keyof Filters) => (e: { target: { value: string } }) => setDraft({ ...draft, [key]: e.target.value });

  const apply = (e: FormEvent) => {
    e.preventDefault();
    setApplied(draft);
    setCursors([undefined]);
  };
  const reset = () => {
    setDraft(EMPTY);
    setApplied(EMPTY);
    setCursors([undefined]);
  };

  return (
    <Page
      title={t('audit.title')}
      actions={
        <a href={csv} download className="inline-flex items-center rounded-md border border-line bg-panel px-3 py-1.5 text-sm font-medium hover:bg-hover" data-testid="audit-csv">
          {t('audit.csv')}
        </a>
      }
    >
      <form onSubmit={apply} aria-label={t('audit.filters')} className="grid gap-3 rounded-lg border border-line bg-panel p-3 sm:grid-cols-3 lg:grid-cols-4">
        <Field label={t('audit.user')} value={draft.user} onChange={set('user')} list="audit-users" autoComplete="off" />
        <Field label={t('audit.action')} hint={t('audit.actionHint')} value={draft.action} onChange={set('action')} list="audit-actions" autoComplete="off" />
        <Field label={t('audit.backend')} value={draft.backend} onChange={set('backend')} list="audit-backends" autoComplete="off" />
        <datalist id="audit-users">
          {users.data?.users.map((u) => <option key={u.id} value={u.username} />)}
        </datalist>
        <datalist id="audit-actions">
          {ACTIONS.map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
        <datalist id="audit-backends">
          {backends.data?.backends.map((b) => <option key={b.id} value={b.id} />)}
        </datalist>
        <Field label={t('audit.bucket')} value={draft.bucket} onChange={set('bucket')} />
        <div className="flex flex-col gap-1">
          <label htmlFor="audit-status" className="text-sm font-medium">
            {t('audit.status')}
          </label>
          <select id="audit-status" value={draft.status} onChange={set('status')} className="rounded-md border border-line bg-panel px-2 py-1.5 text-sm text-fg">
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s || t('audit.any')}
              </option>
            ))}
          </select>
        </div>
        <Field label={t('audit.from')} type="datetime-local" value={draft.from} onChange={set('from')} />
        <Field label={t('audit.to')} type="datetime-local" value={draft.to} onChange={set('to')} />
        <div className="flex items-end gap-2">
          <Button type="submit" variant="primary">
            {t('audit.apply')}
          </Button>
          <Button onClick={reset}>{t('audit.reset')}</Button>
        </div>
      </form>
      <ErrorMessage error={page.error} />
      {page.isPending && <Loading />}
      {page.data && (
        <>
          <p role="status" className="text-sm text-muted" data-testid="audit-total" data-total={page.data.total}>
            {t(page.data.total_exact ? 'audit.total' : 'audit.totalAbout', { count: page.data.total })}
          </p>
          {page.data.events.length === 0 ? (
            <p className="text-muted">{t('audit.empty')}</p>
          ) : (
            <DataTable
              testId="audit-table"
              rows={page.data.events}
              rowKey={(e) => String(e.id)}
              rowProps={(e) => ({ 'data-id': String(e.id), 'data-action': e.action, 'data-status': e.status })}
              columns={[
                { header: t('audit.when'), cell: (e) => formatDate(e.timestamp), className: 'whitespace-nowrap' },
                { header: t('audit.user'), cell: (e) => e.username ?? e.user_id ?? '—' },
                { header: t('audit.action'), cell: (e) => e.action, className: 'font-mono text-xs' },
                {
                  header: t('audit.target'),
                  className: 'break-all',
                  cell: (e) => (
                    <>
                      {[e.backend, e.bucket, e.key].filter(Boolean).join(' / ') || '—'}
                      {e.detail && (
                        <>
                          {' '}
                          <button type="button" className="text-xs text-accent underline" aria-expanded={open === e.id} onClick={() => setOpen(open === e.id ? undefined : e.id)}>
                            {t('audit.detail')}
                          </button>
                          {open === e.id && <pre className="mt-1 max-w-xl overflow-auto rounded bg-bg p-2 text-xs">{e.detail}</pre>}
                        </>
                      )}
                    </>
                  ),
                },
                {
                  header: t('audit.status'),
                  cell: (e) => <AuditStatus status={e.status} />,
                },
                { header: t('audit.ip'), cell: (e) => e.ip ?? '—', className: 'text-xs' },
              ]}
            />
          )}
          <nav aria-label={t('audit.pages')} className="flex items-center gap-2">
            <Button disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>
              {t('audit.previous')}
            </Button>
            <span className="text-sm text-muted" data-testid="audit-page">
              {t('audit.page', { n: cursors.length })}
            </span>
            <Button disabled={!page.data.next_cursor || page.isPlaceholderData} onClick={() => setCursors([...cursors, page.data.next_cursor])}>
              {t('audit.next')}
            </Button>
            <label className="ml-4 flex items-center gap-2 text-sm">
              {t('audit.pageSize')}
              <select
                value={limit}
                onChange={(e) => {
                  setLimit(Number(e.target.value));
                  setCursors([undefined]);
                }}
                className="rounded-md border border-line bg-panel px-2 py-1 text-sm text-fg"
              >
                {PAGE_SIZES.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </label>
          </nav>
        </>
      )}
    </Page>
  );
}

/** A row's status, coloured; `pending` (an outcome never recorded) says what it means on hover. */
function AuditStatus({ status }: { status: string }) {
  if (status === 'pending') {
    return (
      <span className="text-muted italic" title={t('audit.pendingHint')}>
        {status}
      </span>
    );
  }
  return <span className={status === 'ok' ? 'text-ok' : status === 'denied' || status === 'error' ? 'text-danger' : ''}>{status}</span>;
}
