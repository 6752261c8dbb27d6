import * as Dialog from '@radix-ui/react-dialog';
import { useQueries, useQuery } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { type KeyboardEvent as ReactKeyboardEvent, useEffect, useMemo, useRef, useState } from 'react';
import { api, unwrap } from '../api/client';
import { t, type MessageKey } from '../i18n';
import { fuzzyScore } from '../lib/fuzzy';
import { Button, Modal, tableClass } from './ui';

export interface PaletteScreen {
  to: string;
  label: MessageKey;
}

interface Command {
  id: string;
  group: MessageKey;
  label: string;
  hint?: string;
  run: () => void;
}

/** Buckets of at most this many backends are offered (one listing each, only while the palette is open). */
const MAX_BACKENDS = 10;

/** `g` then one of these letters goes to the screen; listed in the help dialog. */
export const GO_KEYS: Record<string, { to: string; label: MessageKey }> = {
  b: { to: '/backends', label: 'nav.backends' },
  s: { to: '/shares', label: 'nav.shares' },
  c: { to: '/credentials', label: 'nav.credentials' },
  u: { to: '/admin/users', label: 'nav.users' },
  a: { to: '/admin/audit', label: 'nav.audit' },
  d: { to: '/admin/dashboard', label: 'nav.dashboard' },
  h: { to: '/admin/health', label: 'nav.health' },
};

const isTyping = (target: EventTarget | null) =>
  target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));

/**
 * Ctrl-K (⌘K) opens a palette that jumps to screens, backends and buckets and runs common
 * actions; `?` lists the keyboard shortcuts; `g` then a letter goes to a screen; `/` focuses the
 * screen's filter. Shortcuts other than Ctrl-K are ignored while typing in a field.
 */
export function CommandPalette({
  screens,
  isAdmin,
  canWrite,
  onToggleTheme,
  onSignOut,
}: {
  screens: PaletteScreen[];
  isAdmin: boolean;
  canWrite: boolean;
  onToggleTheme: () => void;
  onSignOut: () => void;
}) {
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const [help, setHelp] = useState(false);
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const listRef = useRef<HTMLUListElement>(null);
  const pendingG = useRef(0);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        setHelp(false);
        setOpen((o) => !o);
        return;
      }
      if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target) || document.querySelector('[role="dialog"]')) return;
      if (e.key === '?') {
        e.preventDefault();
        setHelp(true);
      } else if (e.key === '/') {
        const field = document.querySelector<HTMLInputElement>('main input[type="search"]');
        if (field) {
          e.preventDefault();
          field.focus();
        }
      } else if (e.key === 'g') {
        pendingG.current = Date.now();
      } else if (Date.now() - pendingG.current < 1500 && GO_KEYS[e.key]) {
        pendingG.current = 0;
        const { to } = GO_KEYS[e.key];
        if (!to.startsWith('/admin') || isAdmin) void navigate({ to });
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [navigate, isAdmin]);

  const backends = useQuery({ queryKey: ['backends'], queryFn: () => unwrap(api.GET('/api/backends')), enabled: open });
  const bucketLists = useQueries({
    queries: (backends.data?.backends ?? []).slice(0, MAX_BACKENDS).map((b) => ({
      queryKey: ['buckets', b.id],
      queryFn: () => unwrap(api.GET('/api/backends/{bid}/buckets', { params: { path: { bid: b.id } } })),
      enabled: open,
      retry: false,
    })),
  });

  const close = () => {
    setOpen(false);
    setQuery('');
    setActive(0);
  };
  const go = (to: string, params?: Record<string, string>) => () => {
    close();
    void navigate({ to, params } as never);
  };

  const commands = useMemo<Command[]>(() => {
    const list: Command[] = screens.map((s) => ({ id: `screen:${s.to}`, group: 'palette.screens', label: t(s.label), hint: s.to, run: go(s.to) }));
    for (const b of backends.data?.backends ?? []) list.push({ id: `backend:${b.id}`, group: 'palette.backends', label: b.name, hint: b.id, run: go('/b/$bid', { bid: b.id }) });
    (backends.data?.backends ?? []).slice(0, MAX_BACKENDS).forEach((b, i) => {
      for (const bucket of bucketLists[i]?.data?.buckets ?? [])
        list.push({ id: `bucket:${b.id}/${bucket.name}`, group: 'palette.buckets', label: bucket.name, hint: b.name, run: go('/b/$bid/$bucket', { bid: b.id, bucket: bucket.name }) });
    });
    const action = (id: string, label: MessageKey, run: () => void) => list.push({ id: `action:${id}`, group: 'palette.actions', label: t(label), run: () => (close(), run()) });
    action('theme', 'palette.toggleTheme', onToggleTheme);
    if (canWrite) action('credential', 'palette.newCredential', () => void navigate({ to: '/credentials' }));
    if (canWrite && document.querySelector('[data-testid="file-input"]')) action('upload', 'palette.upload', () => document.querySelector<HTMLInputElement>('[data-testid="file-input"]')?.click());
    action('help', 'palette.shortcuts', () => setHelp(true));
    action('signout', 'session.signOut', onSignOut);
    return list;
  }, [screens, canWrite, backends.data, bucketLists.map((q) => q.dataUpdatedAt).join(), open]);

  const shown = useMemo(
    () =>
      commands
        .map((c) => ({ c, score: Math.max(fuzzyScore(c.label, query), fuzzyScore(`${c.hint ?? ''} ${c.label}`, query) - 5) }))
        .filter((x) => x.score > 0)
        .sort((a, b) => b.score - a.score)
        .slice(0, 50)
        .map((x) => x.c),
    [commands, query],
  );
  const current = Math.min(active, Math.max(0, shown.length - 1));

  useEffect(() => {
    listRef.current?.querySelector(`[data-index="${current}"]`)?.scrollIntoView({ block: 'nearest' });
  }, [current]);

  const onKeyDown = (e: ReactKeyboardEvent) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setActive((current + 1) % Math.max(1, shown.length));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((current - 1 + shown.length) % Math.max(1, shown.length));
    } else if (e.key === 'Enter') {
      e.preventDefault();
      shown[current]?.run();
    }
  };

  return (
    <>
      <Button variant="ghost" onClick={() => setOpen(true)} aria-keyshortcuts="Control+K" title={t('palette.title')}>
        <span aria-hidden>⌘K</span>
        <span className="sr-only">{t('palette.title')}</span>
      </Button>
      <Dialog.Root open={open} onOpenChange={(o) => (o ? setOpen(true) : close())}>
        <Dialog.Portal>
          <Dialog.Overlay className="fixed inset-0 bg-black/40" />
          <Dialog.Content className="fixed left-1/2 top-[15vh] w-[92vw] max-w-xl -translate-x-1/2 rounded-lg border border-line bg-panel text-fg shadow-xl" data-testid="command-palette">
            <Dialog.Title className="sr-only">{t('palette.title')}</Dialog.Title>
            <Dialog.Description className="sr-only">{t('palette.description')}</Dialog.Description>
            <input
              autoFocus
              role="combobox"
              aria-expanded
              aria-controls="palette-list"
              aria-activedescendant={shown[current] ? `palette-${current}` : undefined}
              aria-label={t('palette.placeholder')}
              placeholder={t('palette.placeholder')}
              value={query}
              onChange={(e) => {
                setQuery(e.target.value);
                setActive(0);
              }}
              onKeyDown={onKeyDown}
              className="w-full rounded-t-lg border-b border-line bg-panel px-4 py-3 text-base text-fg outline-none"
            />
            <ul id="palette-list" role="listbox" aria-label={t('palette.title')} ref={listRef} className="max-h-[50vh] overflow-auto p-1">
              {shown.length === 0 && <li className="px-3 py-2 text-sm text-muted">{t('palette.empty')}</li>}
              {shown.map((c, i) => (
                <li
                  key={c.id}
                  id={`palette-${i}`}
                  data-index={i}
                  role="option"
                  aria-selected={i === current}
                  onMouseMove={() => setActive(i)}
                  onClick={c.run}
                  className={`flex cursor-pointer items-center justify-between gap-3 rounded px-3 py-2 text-sm ${i === current ? 'bg-hover' : ''}`}
                >
                  <span className="truncate">{c.label}</span>
                  <span className="shrink-0 text-xs text-muted">
                    {t(c.group)}
                    {c.hint ? ` · ${c.hint}` : ''}
                  </span>
                </li>
              ))}
            </ul>
          </Dialog.Content>
        </Dialog.Portal>
      </Dialog.Root>
      <ShortcutsHelp open={help} onOpenChange={setHelp} isAdmin={isAdmin} />
    </>
  );
}

const shortcuts = (isAdmin: boolean): { keys: string; label: MessageKey; vars?: Record<string, string> }[] => [
  { keys: 'Ctrl K / ⌘ K', label: 'shortcuts.palette' },
  { keys: '?', label: 'shortcuts.help' },
  { keys: '/', label: 'shortcuts.filter' },
  ...Object.entries(GO_KEYS)
    .filter(([, go]) => isAdmin || !go.to.startsWith('/admin'))
    .map(([key, go]) => ({ keys: `g ${key}`, label: 'shortcuts.goTo' as MessageKey, vars: { screen: t(go.label) } })),
  { keys: 'Shift + click', label: 'shortcuts.range' },
  { keys: 'Esc', label: 'shortcuts.close' },
];

export function ShortcutsHelp({ open, onOpenChange, isAdmin }: { open: boolean; onOpenChange: (open: boolean) => void; isAdmin: boolean }) {
  return (
    <Modal open={open} onOpenChange={onOpenChange} title={t('shortcuts.title')}>
      <table className={tableClass} data-testid="shortcuts">
        <thead>
          <tr>
            <th scope="col">{t('shortcuts.keys')}</th>
            <th scope="col">{t('shortcuts.does')}</th>
          </tr>
        </thead>
        <tbody>
          {shortcuts(isAdmin).map((s) => (
            <tr key={s.keys}>
              <td>
                <kbd className="rounded border border-line bg-bg px-1.5 py-0.5 font-mono text-xs">{s.keys}</kbd>
              </td>
              <td>{t(s.label, s.vars)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="mt-3 flex justify-end">
        <Button variant="primary" onClick={() => onOpenChange(false)}>
          {t('common.close')}
        </Button>
      </div>
    </Modal>
  );
}
