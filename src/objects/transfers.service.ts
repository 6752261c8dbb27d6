import { Injectable } from '@nestjs/common';
import { StowageError } from '@stowage/errors';
import { AuditService } from '../audit/audit.service';
import { Actor } from '../access/actor';
import { toObjectInfoDto } from './dto/object.dto';
import { CopyObjectDto, CopyObjectResultDto } from './dto/transfer.dto';
import { normalizeMetadata } from './object-attributes.service';
import { ObjectCopier } from './object-copier';
import { assertKey, ObjectTarget } from './objects.service';
import { quotaOrigin } from './quota-accounting';

/**
 * Copies and moves of one object, within a backend or across backends (see {@link ObjectCopier}).
 * A move is a copy followed by a delete of the source, so it is not atomic.
 */
@Injectable()
export class TransfersService {
  constructor(
    private readonly copier: ObjectCopier,
    private readonly audit: AuditService,
  ) {}

  async copy(source: ObjectTarget, body: CopyObjectDto, actor: Actor): Promise<CopyObjectResultDto> {
    const [src, dst] = this.copier.sides(source, body);
    assertKey(body.src_key);
    assertKey(body.dst_key);
    if (body.metadata !== undefined) body.metadata = normalizeMetadata(body.metadata);
    const sameObject = src.backendId === dst.backendId && src.bucket === dst.bucket && body.src_key === body.dst_key;
    if (sameObject && (body.move || body.metadata === undefined)) {
      throw new StowageError('bad_request', undefined, 'the source and the destination are the same object');
    }
    if (body.move && body.version_id) {
      throw new StowageError('bad_request', undefined, 'move copies the current version only; omit version_id');
    }
    const { size } = await this.copier.copy({
      src,
      dst,
      srcKey: body.src_key,
      dstKey: body.dst_key,
      versionId: body.version_id,
      metadata: body.metadata,
      overwrite: body.overwrite ?? true,
      origin: quotaOrigin(actor),
    });
    if (body.move) {
      await src.backend.deleteObject(src.bucket, body.src_key);
      await this.copier.sourceRemoved(src, size);
    }
    const cross = src.backendId !== dst.backendId;
    await this.audit.recordBy(actor, {
      action: cross ? 'object.transfer' : 'object.copy',
      backendId: source.backendId,
      bucket: source.bucket,
      key: body.src_key,
      detail: {
        dst_backend: dst.backendId,
        dst_bucket: dst.bucket,
        dst_key: body.dst_key,
        size,
        move: body.move === true,
        ...(body.version_id ? { version_id: body.version_id } : {}),
      },
    });
    const info = await dst.backend.headObject(dst.bucket, body.dst_key);
    return { bucket: dst.bucket, backend: dst.backendId, key: body.dst_key, object: toObjectInfoDto(info) };
  }
}
