import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'stowage:public';

/** Opts a route out of authentication. Every other route requires a session and a declared role. */
export const Public = () => SetMetadata(IS_PUBLIC, true);
