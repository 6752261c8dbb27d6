export * from './checksums';
export * from './chunked';
export * from './encoding';
export * from './errors';
export * from './parse';
export * from './signing';
export * from './verify';
export * from './presign';
