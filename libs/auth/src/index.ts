export * from './auth-key';
export * from './jwt-issuers';
export * from './local-issuer';
export * from './token-rules';
export * from './token-verifier';
export * from './policy';
