export * from './auth-key';
export * from './local-issuer';
export * from './token-verifier';
