export * from './duration';
export * from './listen';
export * from './load';
export * from './schema';
export { isCidr } from './validators';
export * from './endpoint-policy';
export * from './byte-size';
