import { Background, Controls, ReactFlow } from '@xyflow/react';
import type { Edge, Node } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useEffect, useMemo, useRef, useState } from 'react';
import { markTiming } from '../timings.ts';
import { NODE_HEIGHT, NODE_WIDTH } from './layout.ts';
import type { Positions } from './layout.ts';
import type { DefinitionStep } from '../types.ts';

export interface DagStep {
  readonly id: string;
  readonly needs: readonly string[];
  readonly status?: string;
  readonly join?: string;
  readonly when?: string | null;
}

/** The join policy as the DAG's edges show it: `quorum 2`, `any_success`, …; the default all_success is left out. */
export function joinText(join: DefinitionStep['join'] | undefined): string {
  if (!join) return 'all_success';
  return join.kind === 'quorum' ? `quorum ${join.n ?? ''}` : join.kind;
}

/** Past this many steps the view opens on the first ones, readable, rather than on a whole graph too small to read. */
const FIT_ALL = 60;

function fitTo(at: Positions): { maxZoom: number; nodes?: { id: string }[] } {
  const placed = Object.entries(at);
  if (placed.length <= FIT_ALL) return { maxZoom: 1 };
  // The first step at the top (leftmost among those), and the steps nearest it: a chain's start, a fan's root.
  const [, anchor] = placed.reduce((a, b) => (b[1].y < a[1].y || (b[1].y === a[1].y && b[1].x < a[1].x) ? b : a));
  const distance = ({ x, y }: { x: number; y: number }): number => (x - anchor.x) ** 2 + (y - anchor.y) ** 2;
  const nearest = placed.sort((a, b) => distance(a[1]) - distance(b[1])).slice(0, 12);
  return { maxZoom: 1, nodes: nearest.map(([id]) => ({ id })) };
}

let worker: Worker | null = null;
let tickets = 0;

/** Positions from the layout worker (one for the page), for the steps' shape: ids and needs. */
function useLayout(shape: string, steps: readonly DagStep[]): Positions | null {
  const [laidOut, setLaidOut] = useState<{ shape: string; positions: Positions } | null>(null);
  const latest = useRef(steps);
  latest.current = steps;
  useEffect(() => {
    worker ??= new Worker(new URL('./layout.worker.ts', import.meta.url), { type: 'module' });
    const ticket = ++tickets;
    const started = performance.now();
    const own = worker;
    const answer = (event: MessageEvent<{ ticket: number; positions: Positions }>): void => {
      if (event.data.ticket !== ticket) return;
      markTiming(`layout:${latest.current.length}`, performance.now() - started);
      setLaidOut({ shape, positions: event.data.positions });
    };
    own.addEventListener('message', answer);
    own.postMessage({ ticket, steps: latest.current.map((s) => ({ id: s.id, needs: s.needs })) });
    return () => own.removeEventListener('message', answer);
  }, [shape]);
  return laidOut?.shape === shape ? laidOut.positions : null;
}

function nodesOf(steps: readonly DagStep[], at: Positions): Node[] {
  return steps.map((step) => {
    const status = step.status?.replace(/_/g, ' ');
    return {
      id: step.id,
      position: at[step.id] ?? { x: 0, y: 0 },
      width: NODE_WIDTH,
      height: NODE_HEIGHT,
      data: { label: status ? `${step.id} · ${status}` : step.id },
      className: `dag-node status-${step.status ?? 'definition'}`,
      ariaLabel: `step ${step.id}${status ? `, ${status}` : ''}`,
    };
  });
}

/** Edges from each need to its step, labelled with the step's join policy (when not all_success) and its `when`. */
function edgesOf(steps: readonly DagStep[]): Edge[] {
  return steps.flatMap((step) =>
    step.needs.map((need) => {
      const join = step.join && step.join !== 'all_success' ? step.join : '';
      const label = [join, step.when ? `when ${step.when}` : ''].filter(Boolean).join(' · ');
      return { id: `${need}->${step.id}`, source: need, target: step.id, ...(label ? { label } : {}) };
    }),
  );
}

/** Steps as a graph laid out by dagre in a worker; a click on a step, or Enter on a focused one, selects it. */
export function Dag({
  steps,
  onSelect,
  label,
}: {
  steps: readonly DagStep[];
  onSelect?: (id: string) => void;
  label: string;
}) {
  const shape = useMemo(() => steps.map((s) => `${s.id}<${s.needs.join(',')}`).join(';'), [steps]);
  const started = useRef(performance.now());
  useEffect(() => {
    started.current = performance.now();
  }, [shape]);
  const at = useLayout(shape, steps);
  const nodes = useMemo(() => (at ? nodesOf(steps, at) : []), [steps, at]);
  const edges = useMemo(() => edgesOf(steps), [steps]);
  useEffect(() => {
    if (nodes.length === 0) return;
    requestAnimationFrame(() => markTiming(`dag:${nodes.length}`, performance.now() - started.current));
  }, [nodes]);
  return (
    <section
      className="dag"
      aria-label={label}
      data-steps={steps.length}
      aria-busy={at === null}
      onKeyDown={(event) => {
        // React Flow focuses nodes with Tab; Enter or Space on one opens it, as a click does.
        if (event.key !== 'Enter' && event.key !== ' ') return;
        const id = (event.target as HTMLElement).closest('.react-flow__node')?.getAttribute('data-id');
        if (id) onSelect?.(id);
      }}
    >
      {at === null ? (
        <p className="laying-out">Laying out {steps.length} steps…</p>
      ) : (
        <ReactFlow
          key={shape}
          nodes={nodes}
          edges={edges}
          fitView
          fitViewOptions={fitTo(at)}
          minZoom={0.02}
          onlyRenderVisibleElements={steps.length > 200}
          nodesDraggable={false}
          nodesConnectable={false}
          onNodeClick={(_event, node) => onSelect?.(node.id)}
          onSelectionChange={({ nodes: selected }) => {
            const first = selected[0];
            if (first) onSelect?.(first.id);
          }}
          proOptions={{ hideAttribution: true }}
        >
          <Background />
          <Controls showInteractive={false} />
        </ReactFlow>
      )}
    </section>
  );
}
