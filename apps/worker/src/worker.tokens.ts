export const APP_CONFIG = Symbol('APP_CONFIG');
export const TRANSFER_ACTIVITIES = Symbol('TRANSFER_ACTIVITIES');
