export * from './xml';
export * from './read';
export * from './delete-objects';
export * from './list-objects';
