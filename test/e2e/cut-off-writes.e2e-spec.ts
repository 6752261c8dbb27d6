import { describeCutOffWrites } from '../harness/cut-off-writes';

// Uploads whose client hangs up (or whose last chunk is forged) over an existing object, on s3rver.
describeCutOffWrites({ s3: true, kind: 's3rver' });
