/** A webhook delivery as GET /v1/notifications shows it. */
export interface DeliveryView {
  readonly id: string;
  readonly endpoint: string;
  readonly webhookId: string;
  readonly type: string;
  readonly runId: string;
  readonly tenant: string;
  readonly stepId: string | null;
  readonly code: string | null;
  readonly status: 'pending' | 'delivered' | 'failed';
  readonly attempts: number;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly lastAttemptAt: string | null;
  readonly nextAttemptAt: string | null;
  readonly createdAt: string;
  readonly deliveredAt: string | null;
  readonly eventId: string;
  readonly position: number;
}

export interface ListNotificationsQuery {
  readonly run?: string;
  readonly status?: string;
  readonly tenant?: string;
  readonly limit?: number;
}
