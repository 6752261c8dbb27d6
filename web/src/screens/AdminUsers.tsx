import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { Button, Check, DataTable, ErrorMessage, Field, FormDialog, Loading, Page, Select } from '../components/ui';
import { t } from '../i18n';
import { formatDate } from '../lib/format';

type Role = Schemas['UserDto']['role'];
const ROLES: Role[] = ['admin', 'user', 'readonly'];

export default function AdminUsers() {
  const queryClient = useQueryClient();
  const users = useQuery({ queryKey: ['users'], queryFn: () => unwrap(api.GET('/api/admin/users', { params: { query: {} } })) });
  const [creating, setCreating] = useState(false);
  const [form, setForm] = useState({ username: '', email: '', password: '', role: 'user' as Role, must_change_pw: true });
  const [reset, setReset] = useState<{ id: string; name: string }>();
  const [newPassword, setNewPassword] = useState('');
  const invalidate = () => void queryClient.invalidateQueries({ queryKey: ['users'] });

  const create = useMutation({
    mutationFn: () => unwrap(api.POST('/api/admin/users', { body: { ...form, email: form.email || undefined } })),
    onSuccess: () => {
      setCreating(false);
      setForm({ username: '', email: '', password: '', role: 'user', must_change_pw: true });
      invalidate();
    },
  });
  const patch = useMutation({
    mutationFn: ({ id, body }: { id: string; body: Schemas['PatchUserDto'] }) => unwrap(api.PATCH('/api/admin/users/{id}', { params: { path: { id } }, body })),
    onSuccess: invalidate,
  });
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE('/api/admin/users/{id}', { params: { path: { id } } })),
    onSuccess: invalidate,
  });
  const unlock = useMutation({
    mutationFn: (id: string) => unwrap(api.POST('/api/admin/users/{id}/unlock', { params: { path: { id } } })),
    onSuccess: invalidate,
  });
  const resetPw = useMutation({
    mutationFn: () => unwrap(api.POST('/api/admin/users/{id}/reset-password', { params: { path: { id: reset!.id } }, body: { new_password: newPassword } })),
    onSuccess: () => {
      setReset(undefined);
      setNewPassword('');
      invalidate();
    },
  });


  return (
    <Page title={t('users.title')} actions={<Button variant="primary" onClick={() => setCreating(true)}>{t('users.create')}</Button>}>
      <ErrorMessage error={users.error ?? patch.error ?? remove.error ?? unlock.error} />
      {users.isPending && <Loading />}
      {users.data && (
        <DataTable
          rows={users.data.users}
          rowKey={(u) => u.id}
          columns={[
            {
              header: t('users.username'),
              cell: (u) => (
                <>
                  {u.username}
                  {u.email && <span className="block text-xs text-muted">{u.email}</span>}
                </>
              ),
            },
            {
              header: t('users.role'),
              cell: (u) => (
                <select
                  aria-label={`${t('users.role')}: ${u.username}`}
                  value={u.role}
                  className="rounded border border-line bg-panel px-1"
                  onChange={(e) => patch.mutate({ id: u.id, body: { role: e.target.value as Role } })}
                >
                  {ROLES.map((r) => (
                    <option key={r} value={r}>
                      {t(`role.${r}`)}
                    </option>
                  ))}
                </select>
              ),
            },
            { header: t('users.enabled'), cell: (u) => (u.enabled ? t('common.yes') : '—') },
            { header: t('users.lastLogin'), cell: (u) => formatDate(u.last_login_at) },
            {
              header: t('common.actions'),
              className: 'flex flex-wrap gap-1',
              cell: (u) => (
                <>
                  <Button onClick={() => patch.mutate({ id: u.id, body: { enabled: !u.enabled } })}>{u.enabled ? t('users.disable') : t('users.enable')}</Button>
                  {u.identity_source === 'local' && <Button onClick={() => setReset({ id: u.id, name: u.username })}>{t('users.resetPassword')}</Button>}
                  {u.locked_until && <Button onClick={() => unlock.mutate(u.id)}>{t('users.unlock')}</Button>}
                  <Button variant="danger" onClick={() => confirm(t('common.confirmDelete', { name: u.username })) && remove.mutate(u.id)}>
                    {t('common.delete')}
                  </Button>
                </>
              ),
            },
          ]}
        />
      )}
      <FormDialog open={creating} onClose={() => setCreating(false)} title={t('users.create')} onSubmit={() => create.mutate()} pending={create.isPending} error={create.error}>
        <Field label={t('users.username')} required value={form.username} onChange={(e) => setForm({ ...form, username: e.target.value })} />
        <Field label={t('users.email')} type="email" value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} />
        <Field label={t('users.password')} type="password" autoComplete="new-password" required value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} />
        <Select label={t('users.role')} value={form.role} onChange={(v) => setForm({ ...form, role: v as Role })} options={ROLES.map((r) => ({ value: r, label: t(`role.${r}`) }))} />
        <Check label={t('users.mustChange')} checked={form.must_change_pw} onChange={(e) => setForm({ ...form, must_change_pw: e.target.checked })} />
      </FormDialog>
      <FormDialog
        open={reset !== undefined}
        onClose={() => setReset(undefined)}
        title={`${t('users.resetPassword')}: ${reset?.name ?? ''}`}
        onSubmit={() => resetPw.mutate()}
        submitLabel={t('common.save')}
        pending={resetPw.isPending}
        error={resetPw.error}
      >
        <Field label={t('password.new')} type="password" autoComplete="new-password" required value={newPassword} onChange={(e) => setNewPassword(e.target.value)} />
      </FormDialog>
    </Page>
  );
}
