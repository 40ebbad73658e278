import { Topics } from '@orchestron/bus';
import type { MessageBus, TopicPartition } from '@orchestron/bus';

/**
 * Which runs this orchestrator instance owns: those whose key falls on a partition of the step-events topic
 * that the consumer group gave it. Every topic about a run is keyed by run id and has the same partition count,
 * so one partition number names the same runs everywhere. Until the group hands out partitions an instance owns
 * nothing: it arms no timer and recovers no run that may be another instance's.
 */
export class PartitionOwnership {
  private readonly bus: MessageBus;
  private owned = new Set<number>();

  constructor(bus: MessageBus) {
    this.bus = bus;
  }

  owns(runId: string): boolean {
    return this.owned.has(this.partitionOf(runId));
  }

  partitionOf(runId: string): number {
    return this.bus.partitionOf(Topics.stepEvents, runId);
  }

  /** Takes the group's new assignment; returns the partitions it gained. */
  update(partitions: readonly TopicPartition[]): Set<number> {
    const next = new Set(partitions.filter((p) => p.topic === Topics.stepEvents).map((p) => p.partition));
    const gained = new Set([...next].filter((p) => !this.owned.has(p)));
    this.owned = next;
    return gained;
  }

  describe(): string {
    return [...this.owned].sort((a, b) => a - b).join(',') || 'none';
  }
}
