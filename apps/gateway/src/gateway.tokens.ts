/**
 * Injection tokens of the gateway's infrastructure. Each outside system sits
 * behind one token, so a test overrides one provider, not a module.
 */
export const APP_CONFIG = 'APP_CONFIG';
export const TEMPORAL_CONNECTION = 'TEMPORAL_CONNECTION';
export const TEMPORAL_CLIENT = 'TEMPORAL_CLIENT';
export const TRANSFER_READ_MODEL = 'TRANSFER_READ_MODEL';
export const CREDENTIAL_VERIFIER = 'CREDENTIAL_VERIFIER';
/** The access keys (AccessKeyStore) that AK/SK-signed requests are checked against. */
export const ACCESS_KEY_STORE = 'ACCESS_KEY_STORE';
/** The server secret (Buffer) that keys auth-key hashes. */
export const AUTH_KEY_SECRET = 'AUTH_KEY_SECRET';
/** The security limits every gateway replica shares (GatewayGuards): accept attempts, used signatures. */
export const GATEWAY_GUARDS = 'GATEWAY_GUARDS';
/** The inventory's read of a project's volumes (VolumeInventory): what the volume routes serve from. */
export const VOLUME_INVENTORY = 'VOLUME_INVENTORY';
