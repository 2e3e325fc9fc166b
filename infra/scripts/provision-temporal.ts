/**
 * `npm run provision:temporal`: creates our namespace (with
 * TEMPORAL_NAMESPACE_RETENTION_DAYS) and search attributes on the Temporal
 * server the configuration names, when they are missing, and says what it
 * found. Exit 0 when the server is provisioned afterwards, 1 otherwise.
 */
import { Connection } from '@temporalio/client';
import { loadConfig } from '../../libs/config/src/config';
import { temporalConnectionSettings } from '../../libs/temporal/src/connection-options';
import { describeGap, inspectProvisioning, isProvisioned, provision } from '../../libs/temporal/src/provisioning';

async function main(): Promise<void> {
  const { temporal } = loadConfig();
  const connection = await Connection.connect(temporalConnectionSettings(temporal));
  try {
    const before = await inspectProvisioning(connection, temporal.namespace);
    const after = isProvisioned(before) ? before : await provision(connection, temporal.namespace, { retentionDays: temporal.namespaceRetentionDays });
    const report = {
      address: temporal.address,
      namespace: temporal.namespace,
      created_namespace: before.namespaceMissing && !after.namespaceMissing,
      created_search_attributes: before.missingAttributes.filter((name) => !after.missingAttributes.includes(name)),
      provisioned: isProvisioned(after),
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    if (!isProvisioned(after)) {
      process.stderr.write(`${describeGap(after, { address: temporal.address, namespace: temporal.namespace })}\n`);
      process.exitCode = 1;
    }
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`provision:temporal: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
