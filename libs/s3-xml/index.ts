export * from './xml';
export * from './read';
export * from './answers';
export * from './delete-objects';
export * from './list-objects';
export * from './list-uploads';
