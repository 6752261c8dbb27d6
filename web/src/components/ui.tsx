import * as Dialog from '@radix-ui/react-dialog';
import { type ButtonHTMLAttributes, type InputHTMLAttributes, type ReactNode, useId, useState } from 'react';
import { ApiError } from '../api/client';
import { t } from '../i18n';

type Variant = 'primary' | 'default' | 'danger' | 'ghost';

const VARIANTS: Record<Variant, string> = {
  primary: 'bg-accent text-accent-fg border-accent hover:opacity-90',
  default: 'bg-panel text-fg border-line hover:bg-hover',
  danger: 'bg-panel text-danger border-danger hover:bg-hover',
  ghost: 'bg-transparent text-fg border-transparent hover:bg-hover',
};

export function Button({ variant = 'default', className = '', ...props }: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant }) {
  return (
    <button
      type="button"
      {...props}
      className={`inline-flex items-center gap-1 rounded-md border px-3 py-1.5 text-sm font-medium disabled:cursor-not-allowed disabled:opacity-50 ${VARIANTS[variant]} ${className}`}
    />
  );
}

/** A form control under its label, tied to it by id; `hint` is read out with the control. */
function Labelled({ label, hint, children }: { label: string; hint?: string; children: (id: string, describedBy?: string) => ReactNode }) {
  const id = useId();
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-sm font-medium">
        {label}
      </label>
      {children(id, hint ? `${id}-hint` : undefined)}
      {hint && (
        <span id={`${id}-hint`} className="text-xs text-muted">
          {hint}
        </span>
      )}
    </div>
  );
}

const controlClass = 'rounded-md border border-line bg-panel px-2 py-1.5 text-sm text-fg';

export function Field({ label, hint, ...props }: InputHTMLAttributes<HTMLInputElement> & { label: string; hint?: string }) {
  return (
    <Labelled label={label} hint={hint}>
      {(id, describedBy) => <input id={id} {...props} className={controlClass} aria-describedby={describedBy} />}
    </Labelled>
  );
}

/** A multi-line text field (JSON documents and the like), monospaced. */
export function TextArea({ label, value, onChange, rows = 8 }: { label: string; value: string; onChange: (v: string) => void; rows?: number }) {
  return (
    <Labelled label={label}>
      {(id) => (
        <textarea id={id} rows={rows} spellCheck={false} className="rounded-md border border-line bg-bg p-2 font-mono text-xs text-fg" value={value} onChange={(e) => onChange(e.target.value)} />
      )}
    </Labelled>
  );
}

export function Check({ label, ...props }: InputHTMLAttributes<HTMLInputElement> & { label: string }) {
  return (
    <label className="flex items-center gap-2 text-sm">
      <input type="checkbox" {...props} />
      {label}
    </label>
  );
}

export function Select({
  label,
  value,
  onChange,
  options,
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  options: { value: string; label: string }[];
}) {
  return (
    <Labelled label={label}>
      {(id) => (
        <select id={id} value={value} onChange={(e) => onChange(e.target.value)} className={controlClass}>
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </Labelled>
  );
}

/** A catalogue error as a sentence (message, detail, retry time), announced to screen readers. */
export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  const text = error instanceof ApiError ? error.readable : error instanceof Error ? error.message : t('error.generic');
  return (
    <p role="alert" className="rounded-md border border-danger px-3 py-2 text-sm text-danger" data-code={error instanceof ApiError ? error.code : undefined}>
      {text}
    </p>
  );
}

export function Loading() {
  return (
    <p role="status" className="p-4 text-sm text-muted">
      {t('common.loading')}
    </p>
  );
}

export function Page({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  return (
    <section className="flex min-h-0 flex-1 flex-col gap-4 p-6">
      <header className="flex flex-wrap items-center justify-between gap-2">
        <h1 className="text-xl font-semibold">{title}</h1>
        <div className="flex flex-wrap gap-2">{actions}</div>
      </header>
      {children}
    </section>
  );
}

/** A modal dialog (Radix): focus trapped inside, Escape closes, focus returns to the opener. */
export function Modal({
  open,
  onOpenChange,
  title,
  description,
  children,
  wide,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: string;
  description?: string;
  children: ReactNode;
  wide?: boolean;
}) {
  return (
    <Dialog.Root open={open} onOpenChange={onOpenChange}>
      <Dialog.Portal>
        <Dialog.Overlay className="fixed inset-0 bg-black/40" />
        <Dialog.Content
          className={`fixed left-1/2 top-1/2 max-h-[90vh] w-[92vw] -translate-x-1/2 -translate-y-1/2 overflow-auto rounded-lg border border-line bg-panel p-5 text-fg shadow-xl ${wide ? 'max-w-4xl' : 'max-w-md'}`}
          aria-describedby={description ? undefined : undefined}
        >
          <Dialog.Title className="mb-2 text-lg font-semibold">{title}</Dialog.Title>
          {description ? (
            <Dialog.Description className="mb-3 text-sm text-muted">{description}</Dialog.Description>
          ) : (
            <Dialog.Description className="sr-only">{title}</Dialog.Description>
          )}
          {children}
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

export function CopyButton({ text, label = t('common.copy') }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <Button
      onClick={() => {
        void navigator.clipboard?.writeText(text).then(() => {
          setCopied(true);
          setTimeout(() => setCopied(false), 1500);
        });
      }}
    >
      {copied ? t('common.copied') : label}
    </Button>
  );
}

/** How a meter's bar reads: in bounds, past a warning line (a soft cap), or past its limit. */
export type MeterTone = 'normal' | 'warn' | 'danger';

const meterBar: Record<MeterTone, string> = { normal: 'bg-accent', warn: 'bg-warn', danger: 'bg-danger' };

export function Meter({ value, max, label, tone = 'normal' }: { value: number; max: number; label: string; tone?: MeterTone }) {
  const pct = max > 0 ? Math.min(100, Math.round((value / max) * 100)) : 0;
  return (
    <div role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} className="h-1.5 w-full rounded bg-line">
      <div className={`h-1.5 rounded ${meterBar[tone]}`} data-tone={tone} style={{ width: `${pct}%` }} />
    </div>
  );
}

/** A quota's meter tone: danger at or past its hard cap, warn past its soft cap. */
export function quotaTone(quota: { hard_exceeded?: boolean; soft_exceeded?: boolean }): MeterTone {
  return quota.hard_exceeded ? 'danger' : quota.soft_exceeded ? 'warn' : 'normal';
}

export const tableClass = 'w-full border-collapse text-sm [&_td]:border-b [&_td]:border-line [&_td]:px-2 [&_td]:py-1.5 [&_th]:border-b [&_th]:border-line [&_th]:px-2 [&_th]:py-1.5 [&_th]:text-left [&_th]:font-medium [&_th]:text-muted';

/** One column of a DataTable: its heading and what each row shows in it. */
export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  className?: string;
}

/** A table of rows under column headings (the admin lists, buckets, credentials, quotas). */
export function DataTable<T>({
  columns,
  rows,
  rowKey,
  rowProps,
  testId,
}: {
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string;
  /** Extra attributes of a row (data-* for tests and scripts). */
  rowProps?: (row: T) => Record<string, string>;
  testId?: string;
}) {
  return (
    <table className={tableClass} data-testid={testId}>
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c.header} scope="col">
              {c.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={rowKey(row)} {...rowProps?.(row)}>
            {columns.map((c) => (
              <td key={c.header} className={c.className}>
                {c.cell(row)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The buttons at the foot of a dialog: Cancel, then the dialog's own action. */
export function DialogActions({ onCancel, children }: { onCancel: () => void; children: ReactNode }) {
  return (
    <div className="flex justify-end gap-2">
      <Button onClick={onCancel}>{t('common.cancel')}</Button>
      {children}
    </div>
  );
}

/** A dialog holding one form: its fields, the error of its last submission, Cancel and submit. */
export function FormDialog({
  open,
  onClose,
  title,
  onSubmit,
  submitLabel = t('common.create'),
  pending,
  error,
  extra,
  children,
}: {
  open: boolean;
  onClose: () => void;
  title: string;
  onSubmit: () => void;
  submitLabel?: string;
  pending?: boolean;
  error?: unknown;
  /** Buttons beside submit (e.g. "Test connection"). */
  extra?: ReactNode;
  children: ReactNode;
}) {
  return (
    <Modal open={open} onOpenChange={(next) => !next && onClose()} title={title}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          onSubmit();
        }}
        className="flex flex-col gap-3"
      >
        {children}
        <ErrorMessage error={error} />
        <DialogActions onCancel={onClose}>
          {extra}
          <Button type="submit" variant="primary" disabled={pending}>
            {submitLabel}
          </Button>
        </DialogActions>
      </form>
    </Modal>
  );
}

/** Asks before something that cannot be undone; the action's error stays in the dialog. */
export function ConfirmDialog({
  open,
  onClose,
  title,
  description,
  confirmLabel = t('common.delete'),
  onConfirm,
  error,
}: {
  open: boolean;
  onClose: () => void;
  title: string;
  description: string;
  confirmLabel?: string;
  onConfirm: () => void;
  error?: unknown;
}) {
  return (
    <Modal open={open} onOpenChange={(next) => !next && onClose()} title={title} description={description}>
      <ErrorMessage error={error} />
      <DialogActions onCancel={onClose}>
        <Button variant="danger" onClick={onConfirm}>
          {confirmLabel}
        </Button>
      </DialogActions>
    </Modal>
  );
}
