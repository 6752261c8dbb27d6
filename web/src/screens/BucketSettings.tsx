import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from '@tanstack/react-router';
import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { Button, Check, ErrorMessage, Field, Loading, Meter, Page, quotaTone, TextArea } from '../components/ui';
import { t } from '../i18n';
import { formatBytes, formatDate } from '../lib/format';
import { isAdmin, useMe } from '../lib/session';

type Params = { params: { path: { bid: string; bucket: string } } };

/** A size as a person types it back into the form: "10Gi" for 10 GiB, bytes when it is not a whole unit. */
export function sizeText(bytes: number | undefined): string {
  if (bytes === undefined) return '';
  for (const [unit, size] of [['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section aria-label={title} className="flex max-w-3xl flex-col gap-2 rounded-lg border border-line bg-panel p-4">
      <h2 className="text-base font-semibold">{title}</h2>
      {children}
    </section>
  );
}

/** Parses a JSON text field, throwing a readable error the section shows. */
function parseJson<T>(text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(t('settings.badJson', { reason: err instanceof Error ? err.message : String(err) }));
  }
}

function Quota({ p }: { p: Params }) {
  const quota = useQuery({ queryKey: ['quota', p.params.path], queryFn: () => unwrap(api.GET('/api/backends/{bid}/buckets/{bucket}/quota', p)) });
  const q = quota.data;
  const [saved, setSaved] = useState(false);
  return (
    <Section title={t('settings.quota')}>
      {quota.isPending && <Loading />}
      {q && (
        <div className="text-sm" data-testid="quota-usage">
          {q.has_usage ? t('settings.usage', { used: formatBytes(q.usage_bytes), count: q.object_count ?? 0 }) : t('settings.notCounted')}
          {q.computed_at && <span className="ml-1 text-xs text-muted">{t('settings.countedAt', { date: formatDate(q.computed_at) })}</span>}
          {q.hard_bytes !== undefined && <Meter value={q.usage_bytes ?? 0} max={q.hard_bytes} label={t('settings.hard')} tone={quotaTone(q)} />}
          {q.soft_exceeded && <p className="font-medium text-warn">{t('settings.softExceeded')}</p>}
          {q.hard_exceeded && <p className="text-danger">{t('settings.hardExceeded')}</p>}
          {q.last_error && <p className="text-danger">{q.last_error}</p>}
        </div>
      )}
      {/* Keyed by the saved caps, so the fields start from them and are never overwritten while typed in. */}
      {q && <QuotaForm key={`${q.soft_bytes}/${q.hard_bytes}`} p={p} quota={q} onSaved={setSaved} />}
      {saved && <p role="status" className="text-sm text-muted">{t('settings.saved')}</p>}
      <ErrorMessage error={quota.error} />
    </Section>
  );
}

function QuotaForm({ p, quota: q, onSaved }: { p: Params; quota: Schemas['QuotaDto']; onSaved: (saved: boolean) => void }) {
  const queryClient = useQueryClient();
  const [soft, setSoft] = useState(() => sizeText(q.soft_bytes));
  const [hard, setHard] = useState(() => sizeText(q.hard_bytes));
  const done = (data: Schemas['QuotaDto'] | undefined) => {
    if (data) queryClient.setQueryData(['quota', p.params.path], data);
    else void queryClient.invalidateQueries({ queryKey: ['quota', p.params.path] });
    void queryClient.invalidateQueries({ queryKey: ['buckets', p.params.path.bid] });
  };
  const save = useMutation({
    mutationFn: () => {
      onSaved(false);
      return unwrap(api.PUT('/api/backends/{bid}/buckets/{bucket}/quota', { ...p, body: { soft_bytes: soft.trim() || null, hard_bytes: hard.trim() || null } }));
    },
    onSuccess: (data) => {
      onSaved(true);
      done(data);
    },
  });
  const remove = useMutation({ mutationFn: () => unwrap(api.DELETE('/api/backends/{bid}/buckets/{bucket}/quota', p)), onSuccess: () => done(undefined) });
  const recompute = useMutation({ mutationFn: () => unwrap(api.POST('/api/backends/{bid}/buckets/{bucket}/quota/recompute', p)), onSuccess: done });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <>
      <form onSubmit={submit} className="flex flex-wrap items-end gap-3">
        <div className="w-40">
          <Field label={t('settings.soft')} hint={t('settings.sizeHint')} value={soft} onChange={(e) => setSoft(e.target.value)} placeholder="8Gi" />
        </div>
        <div className="w-40">
          <Field label={t('settings.hard')} hint={t('settings.sizeHint')} value={hard} onChange={(e) => setHard(e.target.value)} placeholder="10Gi" />
        </div>
        <Button type="submit" variant="primary" disabled={save.isPending}>
          {t('settings.saveQuota')}
        </Button>
        {q.configured && (
          <Button variant="danger" onClick={() => remove.mutate()}>
            {t('settings.removeQuota')}
          </Button>
        )}
        <Button onClick={() => recompute.mutate()} disabled={recompute.isPending}>
          {t('settings.recompute')}
        </Button>
      </form>
      <ErrorMessage error={save.error ?? remove.error ?? recompute.error} />
    </>
  );
}

function SizeTracking({ p }: { p: Params }) {
  const queryClient = useQueryClient();
  const tracking = useQuery({ queryKey: ['size-tracking', p.params.path], queryFn: () => unwrap(api.GET('/api/backends/{bid}/buckets/{bucket}/size-tracking', p)) });
  const set = useMutation({
    mutationFn: (enabled: boolean) => unwrap(api.PUT('/api/backends/{bid}/buckets/{bucket}/size-tracking', { ...p, body: { enabled } })),
    onSuccess: (data) => {
      queryClient.setQueryData(['size-tracking', p.params.path], data);
      void queryClient.invalidateQueries({ queryKey: ['buckets', p.params.path.bid] });
    },
  });
  return (
    <Section title={t('settings.sizeTracking')}>
      <p className="text-sm text-muted">{t('settings.sizeTrackingHint')}</p>
      {tracking.data && (
        <Check label={t('settings.sizeTrackingOn')} checked={tracking.data.enabled} disabled={set.isPending} onChange={(e) => set.mutate(e.target.checked)} />
      )}
      <ErrorMessage error={tracking.error ?? set.error} />
    </Section>
  );
}

function Versioning({ p }: { p: Params }) {
  const queryClient = useQueryClient();
  const versioning = useQuery({ queryKey: ['versioning', p.params.path], queryFn: () => unwrap(api.GET('/api/backends/{bid}/buckets/{bucket}/versioning', p)), retry: false });
  const set = useMutation({
    mutationFn: (enabled: boolean) => unwrap(api.PUT('/api/backends/{bid}/buckets/{bucket}/versioning', { ...p, body: { enabled } })),
    onSuccess: (data) => queryClient.setQueryData(['versioning', p.params.path], data),
  });
  return (
    <Section title={t('settings.versioning')}>
      {versioning.data && (
        <Check label={t('settings.versioningOn')} checked={versioning.data.enabled} disabled={set.isPending} onChange={(e) => set.mutate(e.target.checked)} />
      )}
      <ErrorMessage error={versioning.error ?? set.error} />
    </Section>
  );
}

/**
 * A section whose settings are a list of rules edited as JSON (CORS, lifecycle): loaded from the
 * bucket, saved whole; a text that is not JSON is refused readably before anything is sent.
 */
function RulesSection<R>({
  p,
  name,
  title,
  hint,
  label,
  load,
  save,
}: {
  p: Params;
  name: string;
  title: string;
  hint: string;
  label: string;
  load: () => Promise<{ rules: R[] }>;
  save: (rules: R[]) => Promise<unknown>;
}) {
  const rules = useQuery({ queryKey: [name, p.params.path], queryFn: load, retry: false });
  const [text, setText] = useState('');
  useEffect(() => {
    if (rules.data) setText(JSON.stringify(rules.data.rules, null, 2));
  }, [rules.data]);
  const store = useMutation({ mutationFn: () => save(parseJson<R[]>(text)) });
  return (
    <Section title={title}>
      <p className="text-sm text-muted">{hint}</p>
      {rules.data && <TextArea label={label} value={text} onChange={setText} />}
      {rules.data && (
        <div>
          <Button variant="primary" onClick={() => store.mutate()} disabled={store.isPending}>
            {t('common.save')}
          </Button>
        </div>
      )}
      {store.isSuccess && <p role="status" className="text-sm text-muted">{t('settings.saved')}</p>}
      <ErrorMessage error={rules.error ?? store.error} />
    </Section>
  );
}

function Cors({ p }: { p: Params }) {
  return (
    <RulesSection<Schemas['CorsRuleDto']>
      p={p}
      name="cors"
      title={t('settings.cors')}
      hint={t('settings.corsHint')}
      label={t('settings.corsRules')}
      load={() => unwrap(api.GET('/api/backends/{bid}/buckets/{bucket}/cors', p))}
      save={(rules) => unwrap(api.PUT('/api/backends/{bid}/buckets/{bucket}/cors', { ...p, body: { rules } }))}
    />
  );
}

function Policy({ p }: { p: Params }) {
  const policy = useQuery({ queryKey: ['policy', p.params.path], queryFn: () => unwrap(api.GET('/api/backends/{bid}/buckets/{bucket}/policy', p)), retry: false });
  const [text, setText] = useState('');
  useEffect(() => {
    if (policy.data) setText(policy.data.policy);
  }, [policy.data]);
  const save = useMutation({
    mutationFn: () => {
      parseJson(text);
      return unwrap(api.PUT('/api/backends/{bid}/buckets/{bucket}/policy', { ...p, body: { policy: text } }));
    },
  });
  const remove = useMutation({ mutationFn: () => unwrap(api.DELETE('/api/backends/{bid}/buckets/{bucket}/policy', p)), onSuccess: () => setText('') });
  return (
    <Section title={t('settings.policy')}>
      {policy.data && <TextArea label={t('settings.policyDocument')} value={text} onChange={setText} rows={10} />}
      {policy.data && (
        <div className="flex gap-2">
          <Button variant="primary" onClick={() => save.mutate()} disabled={save.isPending}>
            {t('common.save')}
          </Button>
          <Button variant="danger" onClick={() => remove.mutate()}>
            {t('settings.removePolicy')}
          </Button>
        </div>
      )}
      {(save.isSuccess || remove.isSuccess) && <p role="status" className="text-sm text-muted">{t('settings.saved')}</p>}
      <ErrorMessage error={policy.error ?? save.error ?? remove.error} />
    </Section>
  );
}

function Lifecycle({ p }: { p: Params }) {
  return (
    <RulesSection<Schemas['LifecycleRuleDto']>
      p={p}
      name="lifecycle"
      title={t('settings.lifecycle')}
      hint={t('settings.lifecycleHint')}
      label={t('settings.lifecycleRules')}
      load={() => unwrap(api.GET('/api/backends/{bid}/buckets/{bucket}/lifecycle', p))}
      save={(rules) => unwrap(api.PUT('/api/backends/{bid}/buckets/{bucket}/lifecycle', { ...p, body: { rules } }))}
    />
  );
}

/** Bucket settings for administrators: quota, size tracking, versioning, CORS, policy, lifecycle. */
export default function BucketSettings() {
  const { bid, bucket } = useParams({ from: '/b/$bid/$bucket/settings' });
  const me = useMe();
  const p: Params = { params: { path: { bid, bucket } } };
  return (
    <Page
      title={t('settings.title', { bucket })}
      actions={
        <Link to="/b/$bid/$bucket" params={{ bid, bucket }} className="text-accent underline">
          {t('settings.back')}
        </Link>
      }
    >
      {me.data && !isAdmin(me.data) ? (
        <p className="text-muted">{t('settings.adminsOnly')}</p>
      ) : (
        <div className="flex flex-col gap-4">
          <Quota p={p} />
          <SizeTracking p={p} />
          <Versioning p={p} />
          <Cors p={p} />
          <Policy p={p} />
          <Lifecycle p={p} />
        </div>
      )}
    </Page>
  );
}
