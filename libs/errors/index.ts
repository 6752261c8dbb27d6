export * from './catalogue';
export * from './outage';
export * from './stowage-error';
export * from './refusal-error';
