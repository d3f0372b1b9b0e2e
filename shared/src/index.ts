export * from './facts';
export * from './protocol';
export * from './policy';
