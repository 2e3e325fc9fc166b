/** The billing process: the ownership ledger, consuming the lifecycle topic and answering over HTTP. */
import 'reflect-metadata';
import { runConsumerApp } from '../../../libs/consumer/src/consumer-app';
import { BillingModule } from './billing.module';

runConsumerApp({ name: 'Billing', module: (config) => BillingModule.forRoot(config), listen: (config) => config.billing });
