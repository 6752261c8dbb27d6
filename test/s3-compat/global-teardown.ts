import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { CEPH_SCRIPTS, CLUSTER_KEY, run, StartedCluster } from './global-setup';

/**
 * Stops what global-setup.ts started, and only that: its watchdog, then the cluster's daemons
 * (by the PIDs ceph-rgw-up.sh recorded), then removes the cluster's directory. An RGW that was
 * reused through the STOWAGE_TEST_RGW_* variables is left running.
 */
export default async function globalTeardown(): Promise<void> {
  const holder = globalThis as typeof globalThis & { [CLUSTER_KEY]?: StartedCluster };
  const cluster = holder[CLUSTER_KEY];
  if (!cluster) return;
  delete holder[CLUSTER_KEY];

  if (cluster.watchdogPid !== undefined) {
    try {
      // The watchdog leads a process group of its own (it and its `sleep`).
      process.kill(-cluster.watchdogPid);
    } catch {
      // already gone
    }
  }
  const env = { ...process.env, CEPH_DIR: cluster.cephDir, CEPH_RGW_PURGE: '1' };
  await run(join(CEPH_SCRIPTS, 'ceph-rgw-down.sh'), env, 60_000);
  rmSync(cluster.cephDir, { recursive: true, force: true });
}
