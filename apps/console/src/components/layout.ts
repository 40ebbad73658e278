import { graphlib, layout } from '@dagrejs/dagre';

export const NODE_WIDTH = 180;
export const NODE_HEIGHT = 44;
/** Past this many steps dagre ranks by longest path: about half the time of network simplex on a 500-step chain. */
const LARGE = 200;

export interface LayoutRequest {
  readonly steps: readonly { readonly id: string; readonly needs: readonly string[] }[];
}

/** Top-left corners of the steps, top to bottom, by dagre. */
export type Positions = Readonly<Record<string, { x: number; y: number }>>;

export function positions({ steps }: LayoutRequest): Positions {
  const graph = new graphlib.Graph();
  graph.setGraph({
    rankdir: 'TB',
    nodesep: 24,
    ranksep: 40,
    ...(steps.length > LARGE ? { ranker: 'longest-path' } : {}),
  });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const step of steps) graph.setNode(step.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const step of steps) for (const need of step.needs) graph.setEdge(need, step.id);
  layout(graph);
  const at: Record<string, { x: number; y: number }> = {};
  for (const step of steps) {
    const node = graph.node(step.id);
    at[step.id] = { x: (node?.x ?? 0) - NODE_WIDTH / 2, y: (node?.y ?? 0) - NODE_HEIGHT / 2 };
  }
  return at;
}
