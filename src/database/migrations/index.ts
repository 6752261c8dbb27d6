import { InitialSchema1795560778707 } from './1795560778707-initial-schema';

/** Every migration, oldest first. Append only; never edit one that has been released. */
export const MIGRATIONS = [InitialSchema1795560778707];
