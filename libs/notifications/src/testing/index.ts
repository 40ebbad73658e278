export { startWebhookReceiver } from './webhook-receiver.ts';
export type { ReceivedWebhook, ReceiverOptions, WebhookReceiver } from './webhook-receiver.ts';
