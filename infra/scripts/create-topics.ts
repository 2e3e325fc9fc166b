/** Creates the event contract's topics on KAFKA_BROKERS if they are missing (infra/up.sh runs it). */
import { Logger } from '@nestjs/common';
import { loadConfig } from '../../libs/config/src/config';
import { ensureTopics } from '../../libs/kafka/src/topics';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = new Logger('create-topics');
  const created = await ensureTopics(config.kafka.brokers, `${config.kafka.clientId}-admin`, {
    logger,
    replicationFactor: config.kafka.topicReplicationFactor,
  });
  if (created.length === 0) logger.log('all topics already exist');
}

main().catch((error: unknown) => {
  new Logger('create-topics').error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
