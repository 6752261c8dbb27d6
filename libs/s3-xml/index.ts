export * from './xml';
export * from './delete-objects';
