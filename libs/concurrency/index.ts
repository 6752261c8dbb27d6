export * from './semaphore';
export * from './group-commit';
export * from './map-bounded';
