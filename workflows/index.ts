export { transferWorkflow } from './transfer.workflow';
