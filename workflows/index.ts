export { transferWorkflow } from './transfer.workflow';
export { reconcileRunWorkflow } from './reconcile.workflow';
