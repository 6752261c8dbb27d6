import { describeCutOffWrites } from '../harness/cut-off-writes';

// Uploads whose client hangs up (or whose last chunk is forged) over an existing object, on Ceph RGW.
describeCutOffWrites({ s3: 'ceph', kind: 'ceph' });
