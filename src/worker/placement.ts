/**
 * Where onnxruntime put the model's nodes, read from its verbose session log ("Node placements"): a WebGPU
 * session can leave nodes the WebGPU provider does not support on the CPU (WASM) provider, and then the header
 * must not simply say WebGPU. onnxruntime also puts shape arithmetic on the CPU on purpose (cheap, and it
 * says so); only other nodes on the CPU count as falling back.
 */

export interface Placement {
  /** Nodes per execution provider, e.g. { JsExecutionProvider: 40, CPUExecutionProvider: 2 }. */
  nodes: Record<string, number>;
  /** Op types of the nodes on the CPU provider that are not shape arithmetic. */
  cpuCompute: string[];
}

/** Ops onnxruntime assigns to the CPU on purpose: they compute shapes and indices, not pixels. */
const SHAPE_OPS = new Set([
  'Shape',
  'Size',
  'Gather',
  'Unsqueeze',
  'Squeeze',
  'Concat',
  'Slice',
  'Cast',
  'Reshape',
  'ConstantOfShape',
  'Constant',
  'Range',
  'Equal',
  'Where',
  'Expand',
  'Identity',
]);

const CPU = 'CPUExecutionProvider';

/**
 * Parses the placement lines of an onnxruntime verbose log: " All nodes placed on [EP]. Number of nodes: N", or
 * per provider " Node(s) placed on [EP]. Number of nodes: N" followed by one "  OpType (node name)" line per
 * node. Null when the log holds no placement (not verbose, or another format): nothing is known then.
 */
export function parsePlacement(lines: string[]): Placement | null {
  const nodes: Record<string, number> = {};
  const cpuCompute: string[] = [];
  let current: string | null = null;
  let found = false;
  for (const raw of lines) {
    for (const line of raw.split('\n')) {
      const m = /(?:All nodes|Node\(s\)) placed on \[(\w+)\]\. Number of nodes: (\d+)/.exec(line);
      if (m) {
        found = true;
        current = m[1];
        nodes[current] = (nodes[current] ?? 0) + Number(m[2]);
        continue;
      }
      // Node lines are the op type then the node's name in parentheses, indented under their provider.
      const n = /^\s{2,}(\w+) \(.*\)\s*$/.exec(line.replace(/^.*\]\s/, '  '));
      if (n && current === CPU && !SHAPE_OPS.has(n[1])) cpuCompute.push(n[1]);
      else if (!n && !/^\s/.test(line) && !line.includes('Node placements')) current = null;
    }
  }
  return found ? { nodes, cpuCompute } : null;
}
