export * from './catalogue';
export * from './stowage-error';
