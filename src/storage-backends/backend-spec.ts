import { BackendKind } from '@stowage/config';

export type BackendSource = 'config' | 'db';

/** Everything needed to build a driver, whichever source the backend came from. */
export interface BackendSpec {
  id: string;
  name: string;
  type: 's3v4';
  endpoint: string;
  region: string;
  accessKey: string;
  secretKey: string;
  pathStyle: boolean;
  kind: BackendKind;
  checksums: 'when_required' | 'when_supported';
  source: BackendSource;
}
