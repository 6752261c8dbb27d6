export { capabilitiesFor, requireCapability } from './capabilities';
export type { CapabilityFlag } from './capabilities';
export { S3Driver } from './s3/s3.driver';
export type { S3DriverConfig } from './s3/s3-driver.config';
