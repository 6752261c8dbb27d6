import type { S3DriverConfig } from './drivers/s3/s3-driver.config';

export type BackendSource = 'config' | 'db';

/**
 * Everything needed to build a driver, whichever source the backend came from: the driver's
 * connection settings (tuning left at its defaults), plus where the backend is defined.
 */
export interface BackendSpec extends Omit<S3DriverConfig, 'requestTimeoutMs' | 'maxSockets'> {
  type: 's3v4';
  source: BackendSource;
}
