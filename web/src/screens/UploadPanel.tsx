import { useRef, useState } from 'react';
import { Button, Check, Meter, Modal } from '../components/ui';
import { t, type MessageKey } from '../i18n';
import { baseName, formatBytes, formatDate } from '../lib/format';
import { cancel, cancelAll, clearFinished, discardUnfinished, resolveConflict, resumeUpload, type SavedUpload, useUploads } from '../lib/uploads';

/** An upload an earlier page left unfinished: pick the same file again to send the missing parts. */
function Unfinished({ upload }: { upload: SavedUpload }) {
  const input = useRef<HTMLInputElement>(null);
  const [problem, setProblem] = useState<string>();
  const name = baseName(upload.key);
  return (
    <li className="border-b border-line py-1" data-unfinished={upload.key}>
      <div className="flex items-center justify-between gap-2">
        <span className="truncate" title={`${upload.bucket}/${upload.key}`}>
          {name}
        </span>
        <span className="shrink-0 text-xs text-muted">
          {Object.keys(upload.parts).length} / {Math.ceil(upload.size / upload.partSize)} · {formatBytes(upload.size)}
        </span>
      </div>
      <p className="text-xs text-muted">{t('upload.unfinishedSince', { date: formatDate(new Date(upload.started).toISOString()) })}</p>
      <div className="mt-1 flex gap-2">
        <Button onClick={() => input.current?.click()} aria-label={t('upload.resume', { name })}>
          {t('upload.resumeShort')}
        </Button>
        <Button variant="ghost" onClick={() => discardUnfinished(upload.uploadId)} aria-label={t('upload.discard', { name })}>
          {t('upload.discardShort')}
        </Button>
      </div>
      <input
        ref={input}
        type="file"
        hidden
        aria-label={t('upload.resume', { name })}
        data-testid={`resume-input-${upload.key}`}
        onChange={(e) => {
          const file = e.target.files?.[0];
          e.target.value = '';
          if (!file) return;
          const why = resumeUpload(upload.uploadId, file);
          setProblem(why ? t(`upload.notSame.${why}`, { name: upload.name }) : undefined);
        }}
      />
      {problem && (
        <p role="alert" className="text-xs text-danger">
          {problem}
        </p>
      )}
    </li>
  );
}

/** The upload queue (per-file and total progress), unfinished uploads to resume, and the conflict dialog. */
export function UploadPanel() {
  const { items, unfinished } = useUploads();
  const [applyAll, setApplyAll] = useState(false);
  if (items.length === 0 && unfinished.length === 0) return null;
  const total = items.reduce((s, i) => s + i.file.size, 0);
  const sent = items.reduce((s, i) => s + (i.status === 'done' ? i.file.size : i.sent), 0);
  const done = items.filter((i) => i.status === 'done').length;
  const percent = total ? Math.floor((sent / total) * 100) : 100;
  const conflict = items.find((i) => i.status === 'conflict');

  return (
    <aside aria-label={t('upload.title')} className="fixed bottom-3 right-3 z-10 w-96 rounded-lg border border-line bg-panel p-3 shadow-lg">
      <div className="mb-2 flex items-center justify-between gap-2">
        <h2 className="text-sm font-semibold">{t('upload.title')}</h2>
        <div className="flex gap-1">
          <Button variant="ghost" onClick={clearFinished}>
            {t('upload.clear')}
          </Button>
          <Button variant="ghost" onClick={cancelAll}>
            {t('upload.cancelAll')}
          </Button>
        </div>
      </div>
      {items.length > 0 && (
        <>
          <p className="mb-1 text-xs text-muted" data-testid="upload-total">
            {t('upload.total', { done, count: items.length, percent })}
          </p>
          <Meter value={sent} max={total} label={t('upload.title')} />
        </>
      )}
      {unfinished.length > 0 && (
        <section aria-label={t('upload.unfinished')} className="mb-2">
          <h3 className="text-xs font-semibold">{t('upload.unfinished')}</h3>
          <p className="text-xs text-muted">{t('upload.unfinishedHint')}</p>
          <ul className="max-h-40 overflow-auto text-sm">
            {unfinished.map((u) => (
              <Unfinished key={u.uploadId} upload={u} />
            ))}
          </ul>
        </section>
      )}
      <ul className="mt-2 max-h-56 overflow-auto text-sm">
        {items.map((i) => (
          <li key={i.id} className="border-b border-line py-1" data-status={i.status} data-key={i.key}>
            <div className="flex items-center justify-between gap-2">
              <span className="truncate" title={i.key}>
                {baseName(i.key)}
              </span>
              <span className="shrink-0 text-xs text-muted">{t(`upload.${i.status}` as MessageKey)}</span>
              {['queued', 'uploading', 'conflict'].includes(i.status) && (
                <Button variant="ghost" onClick={() => cancel(i.id)} aria-label={t('upload.cancel', { name: baseName(i.key) })}>
                  ✕
                </Button>
              )}
            </div>
            {i.status === 'uploading' && <Meter value={i.sent} max={i.file.size} label={baseName(i.key)} />}
            <span className="text-xs text-muted">
              {formatBytes(i.status === 'done' ? i.file.size : i.sent)} / {formatBytes(i.file.size)}
            </span>
            {i.status === 'failed' && i.error && (
              <p role="alert" className="text-xs text-danger">
                {i.error.readable}
              </p>
            )}
          </li>
        ))}
      </ul>
      <Modal
        open={conflict !== undefined}
        onOpenChange={(open) => !open && conflict && resolveConflict(conflict.id, 'skip', applyAll)}
        title={t('conflict.title', { name: conflict ? baseName(conflict.key) : '' })}
        description={t('conflict.body', { bucket: conflict?.bucket ?? '' })}
      >
        <Check label={t('conflict.applyAll')} checked={applyAll} onChange={(e) => setApplyAll(e.target.checked)} />
        <div className="mt-4 flex justify-end gap-2">
          <Button onClick={() => conflict && resolveConflict(conflict.id, 'skip', applyAll)}>{t('conflict.skip')}</Button>
          <Button onClick={() => conflict && resolveConflict(conflict.id, 'keepBoth', applyAll)}>{t('conflict.keepBoth')}</Button>
          <Button variant="primary" onClick={() => conflict && resolveConflict(conflict.id, 'replace', applyAll)}>
            {t('conflict.replace')}
          </Button>
        </div>
      </Modal>
    </aside>
  );
}
