import { Topics } from '@orchestron/bus';
import type { MessageBus, TopicPartition } from '@orchestron/bus';

/**
 * Which runs this orchestrator instance owns: those whose key falls on a partition of the step-events topic
 * that the consumer group gave it. Every topic about a run is keyed by run id and has the same partition count,
 * so one partition number names the same runs everywhere. Before the first assignment an instance owns
 * everything (a single process needs no group).
 */
export class PartitionOwnership {
  private readonly bus: MessageBus;
  private owned: Set<number> | null = null;

  constructor(bus: MessageBus) {
    this.bus = bus;
  }

  owns(runId: string): boolean {
    return this.owned === null || this.owned.has(this.bus.partitionOf(Topics.stepEvents, runId));
  }

  /** Takes the group's new assignment; returns whether anything changed. */
  update(partitions: readonly TopicPartition[]): boolean {
    const next = new Set(partitions.filter((p) => p.topic === Topics.stepEvents).map((p) => p.partition));
    const changed = this.owned === null || next.size !== this.owned.size || [...next].some((p) => !this.owned?.has(p));
    this.owned = next;
    return changed;
  }

  describe(): string {
    return this.owned === null ? 'all' : [...this.owned].sort((a, b) => a - b).join(',') || 'none';
  }
}
