export * from './auth-key';
export * from './local-issuer';
export * from './token-verifier';
export * from './access-key-store';
export * from './sdk-hmac-signature';
export * from './sdk-hmac-verifier';
