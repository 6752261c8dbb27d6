import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { Button, Check, ErrorMessage, Field, Loading, Modal, Page, Select, tableClass } from '../components/ui';
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

  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };

  return (
    <Page title={t('users.title')} actions={<Button variant="primary" onClick={() => setCreating(true)}>{t('users.create')}</Button>}>
      <ErrorMessage error={users.error ?? patch.error ?? remove.error ?? unlock.error} />
      {users.isPending && <Loading />}
      {users.data && (
        <table className={tableClass}>
          <thead>
            <tr>
              <th scope="col">{t('users.username')}</th>
              <th scope="col">{t('users.role')}</th>
              <th scope="col">{t('users.enabled')}</th>
              <th scope="col">{t('users.lastLogin')}</th>
              <th scope="col">{t('common.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {users.data.users.map((u) => (
              <tr key={u.id}>
                <td>
                  {u.username}
                  {u.email && <span className="block text-xs text-muted">{u.email}</span>}
                </td>
                <td>
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
                </td>
                <td>{u.enabled ? t('common.yes') : '—'}</td>
                <td>{formatDate(u.last_login_at)}</td>
                <td className="flex flex-wrap gap-1">
                  <Button onClick={() => patch.mutate({ id: u.id, body: { enabled: !u.enabled } })}>{u.enabled ? t('users.disable') : t('users.enable')}</Button>
                  {u.identity_source === 'local' && <Button onClick={() => setReset({ id: u.id, name: u.username })}>{t('users.resetPassword')}</Button>}
                  {u.locked_until && <Button onClick={() => unlock.mutate(u.id)}>{t('users.unlock')}</Button>}
                  <Button variant="danger" onClick={() => confirm(t('common.confirmDelete', { name: u.username })) && remove.mutate(u.id)}>
                    {t('common.delete')}
                  </Button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Modal open={creating} onOpenChange={setCreating} title={t('users.create')}>
        <form onSubmit={submit} className="flex flex-col gap-3">
          <Field label={t('users.username')} required value={form.username} onChange={(e) => setForm({ ...form, username: e.target.value })} />
          <Field label={t('users.email')} type="email" value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} />
          <Field label={t('users.password')} type="password" autoComplete="new-password" required value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} />
          <Select label={t('users.role')} value={form.role} onChange={(v) => setForm({ ...form, role: v as Role })} options={ROLES.map((r) => ({ value: r, label: t(`role.${r}`) }))} />
          <Check label={t('users.mustChange')} checked={form.must_change_pw} onChange={(e) => setForm({ ...form, must_change_pw: e.target.checked })} />
          <ErrorMessage error={create.error} />
          <div className="flex justify-end gap-2">
            <Button onClick={() => setCreating(false)}>{t('common.cancel')}</Button>
            <Button type="submit" variant="primary">{t('common.create')}</Button>
          </div>
        </form>
      </Modal>
      <Modal open={reset !== undefined} onOpenChange={() => setReset(undefined)} title={`${t('users.resetPassword')}: ${reset?.name ?? ''}`}>
        <form onSubmit={(e) => { e.preventDefault(); resetPw.mutate(); }} className="flex flex-col gap-3">
          <Field label={t('password.new')} type="password" autoComplete="new-password" required value={newPassword} onChange={(e) => setNewPassword(e.target.value)} />
          <ErrorMessage error={resetPw.error} />
          <div className="flex justify-end gap-2">
            <Button onClick={() => setReset(undefined)}>{t('common.cancel')}</Button>
            <Button type="submit" variant="primary">{t('common.save')}</Button>
          </div>
        </form>
      </Modal>
    </Page>
  );
}
