/**
 * The bus: publishes `data/<entity>/<created|updated|deleted>/v1` for each row. Rows exist only
 * once their transaction committed, so events are published after commit by construction. The
 * envelope's `message_id` is the row's id: a redelivery after a crash carries the same id, and
 * consumers drop it (at-least-once delivery, idempotent consumers).
 */
import type { MessageBus } from '../../bus/message-bus.js';
import type { Repositories } from '../../domain/index.js';
import type { OutboxRow, OutboxTarget } from '../types.js';

export class EventOutboxTarget implements OutboxTarget {
  readonly name = 'bus';

  constructor(
    private readonly bus: MessageBus,
    private readonly repos: Repositories,
    private readonly payload: 'ids' | 'entity' = 'ids',
  ) {}

  async apply(rows: readonly OutboxRow[]): Promise<void> {
    for (const r of rows) {
      const body: Record<string, unknown> = { ...r.payload };
      if (this.payload === 'entity' && !r.topic.includes('/deleted/')) body.entity = (await this.#entity(r)) ?? null;
      await this.bus.publish(r.topic, body, { messageId: r.id, attributes: { outbox_seq: String(r.seq) } });
    }
  }

  async #entity(r: OutboxRow): Promise<unknown> {
    const id = r.aggregateId;
    if (!id) return undefined;
    switch (r.aggregateType) {
      case 'user':
        return this.repos.users.get(id);
      case 'conversation':
        return this.repos.conversations.get(id);
      case 'message':
        return this.repos.conversations.getMessage(id);
      case 'memory':
        return this.repos.memories.get(id);
      default:
        return undefined;
    }
  }
}
