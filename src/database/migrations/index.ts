import { InitialSchema1795560471681 } from './1795560471681-initial-schema';

/** Every migration, oldest first. Append only; never edit one that has been released. */
export const MIGRATIONS = [InitialSchema1795560471681];
