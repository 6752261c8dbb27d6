import { useQuery } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, bucketPath, errorFrom, mutationHeaders, unwrap } from '../api/client';
import { Button, Check, ErrorMessage, Field, Meter, Modal, Select } from '../components/ui';
import { t } from '../i18n';

interface Row {
  key: string;
  name: string;
  folder: boolean;
}

/** Copy or move the selection, within a bucket or to another bucket or backend; folders report progress from the NDJSON stream. */
export function CopyDialog({ bid, bucket, prefix, rows, onClose }: { bid: string; bucket: string; prefix: string; rows: Row[]; onClose: () => void }) {
  const [dstBackend, setDstBackend] = useState(bid);
  const [dstBucket, setDstBucket] = useState(bucket);
  const [dstPrefix, setDstPrefix] = useState(prefix);
  const [move, setMove] = useState(false);
  const [done, setDone] = useState(0);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<unknown>();
  const backends = useQuery({ queryKey: ['backends'], queryFn: () => unwrap(api.GET('/api/backends')) });
  const buckets = useQuery({
    queryKey: ['buckets', dstBackend],
    queryFn: () => unwrap(api.GET('/api/backends/{bid}/buckets', { params: { path: { bid: dstBackend } } })),
  });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setRunning(true);
    setError(undefined);
    setDone(0);
    const target = dstPrefix && !dstPrefix.endsWith('/') ? `${dstPrefix}/` : dstPrefix;
    try {
      for (const row of rows) {
        const rel = row.key.slice(prefix.length);
        if (!row.folder) {
          await unwrap(
            api.POST('/api/backends/{bid}/buckets/{bucket}/object/copy', {
              params: { path: { bid, bucket } },
              body: { src_key: row.key, dst_key: target + rel, dst_backend: dstBackend, dst_bucket: dstBucket, move },
            }),
          );
          setDone((d) => d + 1);
          continue;
        }
        const res = await fetch(`${bucketPath(bid, bucket)}/objects/copy-prefix`, {
          method: 'POST',
          headers: { ...mutationHeaders(), 'content-type': 'application/json' },
          body: JSON.stringify({ src_prefix: row.key, dst_prefix: target + rel, dst_backend: dstBackend, dst_bucket: dstBucket, move }),
        });
        if (!res.ok || !res.body) throw await errorFrom(res);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done: end } = await reader.read();
          if (end) break;
          buffer += value;
          const lines = buffer.split('\n');
          buffer = lines.pop() ?? '';
          for (const line of lines) {
            if (!line.trim()) continue;
            const event = JSON.parse(line) as { event: string; message?: string };
            if (event.event === 'object') setDone((d) => d + 1);
            if (event.event === 'error') setError(new Error(event.message));
          }
        }
      }
      onClose();
    } catch (err) {
      setError(err);
    } finally {
      setRunning(false);
    }
  };

  return (
    <Modal open onOpenChange={onClose} title={t('copy.title', { count: rows.length })}>
      <form onSubmit={(e) => void submit(e)} className="flex flex-col gap-3">
        <Select label={t('copy.backend')} value={dstBackend} onChange={setDstBackend} options={(backends.data?.backends ?? [{ id: bid, name: bid }]).map((b) => ({ value: b.id, label: b.name }))} />
        <Select
          label={t('copy.bucket')}
          value={dstBucket}
          onChange={setDstBucket}
          options={(buckets.data?.buckets ?? [{ name: dstBucket }]).map((b) => ({ value: b.name, label: b.name }))}
        />
        <Field label={t('copy.prefix')} value={dstPrefix} onChange={(e) => setDstPrefix(e.target.value)} />
        <Check label={t('copy.move')} checked={move} onChange={(e) => setMove(e.target.checked)} />
        {running && (
          <>
            <p role="status" className="text-sm">
              {t('copy.progress', { done, total: rows.length })}
            </p>
            <Meter value={done} max={rows.length} label={t('copy.title', { count: rows.length })} />
          </>
        )}
        <ErrorMessage error={error} />
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="submit" variant="primary" disabled={running}>
            {t('copy.submit')}
          </Button>
        </div>
      </form>
    </Modal>
  );
}
