export const APP_CONFIG = Symbol('APP_CONFIG');
export const TRANSFER_ACTIVITIES = Symbol('TRANSFER_ACTIVITIES');
/** One connection to Temporal: the worker polls on it, and the reconciler's client calls go over it. */
export const TEMPORAL_CONNECTION = Symbol('TEMPORAL_CONNECTION');
export const TEMPORAL_CLIENT = Symbol('TEMPORAL_CLIENT');
/** The transfers' event outbox and its relay (TransferEventOutbox). */
export const TRANSFER_EVENT_OUTBOX = Symbol('TRANSFER_EVENT_OUTBOX');
