/**
 * Creates, once, every secret the service's processes share, in this
 * DATA_DIR's keys/ folder, before any process starts. The embedded stack lets
 * whichever process starts first create them; replicas on several hosts must
 * not, or two hosts would each make their own and disagree. The cluster
 * topology runs this once and copies the folder to every host.
 */
import { loadOrCreateSecret } from '../../libs/auth/src/auth-key';
import { loadOrCreateRandomKey } from '../../libs/auth/src/key-files';
import { ensureSigningKeys } from '../../libs/auth/src/local-issuer';
import { loadOrCreateServiceSecret } from '../../libs/auth/src/service-signature';
import { loadConfig } from '../../libs/config/src/config';
import { MASTER_KEY_BYTES } from '../../libs/auth/src/master-keyring';

const { auth, inventory } = loadConfig();
loadOrCreateSecret(auth.authKeySecretFile);
loadOrCreateServiceSecret(inventory.serviceSecretFile);
loadOrCreateRandomKey(auth.accessKeyMasterKeyFile, MASTER_KEY_BYTES, 'Access-key master key');
ensureSigningKeys({ privateKeyFile: auth.jwtPrivateKeyFile, publicKeyFile: auth.jwtPublicKeyFile });
process.stdout.write(`${[auth.authKeySecretFile, inventory.serviceSecretFile, auth.accessKeyMasterKeyFile, auth.jwtPrivateKeyFile, auth.jwtPublicKeyFile].join('\n')}\n`);
