/** The baseline workflow (see baseline.definitions.ts): activities in a row, then the update's answer. */
import { allHandlersFinished, condition, proxyActivities, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import { type BaselineShape, baselineDoneUpdate } from './baseline.definitions';

interface NoopActivities {
  noop(): Promise<void>;
}

// The same timeouts and retries as the transfer's settling steps.
const remote = proxyActivities<NoopActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s' },
});
const local = proxyLocalActivities<NoopActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s' },
});

export async function benchBaselineWorkflow(shape: BaselineShape): Promise<number> {
  let ran = 0;
  let finished = false;
  setHandler(baselineDoneUpdate, async () => {
    await condition(() => finished);
    return ran;
  });
  for (let i = 0; i < shape.activities; i++) {
    await remote.noop();
    ran++;
  }
  for (let i = 0; i < shape.localActivities; i++) {
    await local.noop();
    ran++;
  }
  finished = true;
  await condition(allHandlersFinished);
  return ran;
}
