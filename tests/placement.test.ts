import { describe, expect, it } from 'vitest';
import { parsePlacement } from '../src/worker/placement';

// Lines as onnxruntime's default logger prints them (session_state.cc, VerifyEachNodeIsAssignedToAnEp).
const at =
  '2026-12-02 15:00:00.000000 [V:onnxruntime:, session_state.cc:1280 VerifyEachNodeIsAssignedToAnEp]';

describe('reading where onnxruntime placed the nodes', () => {
  it('all nodes on WebGPU', () => {
    const p = parsePlacement([
      `${at} Node placements`,
      `${at}  All nodes placed on [JsExecutionProvider]. Number of nodes: 41`,
    ]);
    expect(p).toEqual({ nodes: { JsExecutionProvider: 41 }, cpuCompute: [] });
  });

  it('shape arithmetic on the CPU is not a fallback, the resizes of the decoder are', () => {
    const p = parsePlacement([
      `${at} Node placements`,
      `${at}  Node(s) placed on [JsExecutionProvider]. Number of nodes: 77`,
      `${at}   Conv (/enc.0/Conv)`,
      `${at}  Node(s) placed on [CPUExecutionProvider]. Number of nodes: 45`,
      `${at}   Shape (/dec.0/Shape_1)`,
      `${at}   Shape (/dec.0/Shape_2)`,
      `${at}   Resize (/dec.0/Resize)`,
      `${at}   Concat (/dec.0/Concat_2)`,
      `${at}   Resize (/dec.1/Resize)`,
      '\u001b[0;93m2026-12-02 15:23:25.932334 [W:onnxruntime:, session_state.cc:1397 VerifyEachNodeIsAssignedToAnEp] ' +
        'Some nodes were not assigned to the preferred execution providers which may or may not have an negative ' +
        'impact on performance. e.g. ORT explicitly assigns shape related ops to CPU to improve perf.\u001b[m',
    ]);
    expect(p).toEqual({
      nodes: { JsExecutionProvider: 77, CPUExecutionProvider: 45 },
      cpuCompute: ['Resize', 'Resize'],
    });
  });

  it('everything on the CPU provider', () => {
    const p = parsePlacement([`${at}  All nodes placed on [CPUExecutionProvider]. Number of nodes: 41`]);
    expect(p?.nodes).toEqual({ CPUExecutionProvider: 41 });
  });

  it('says nothing when the log has no placement', () => {
    expect(parsePlacement([])).toBeNull();
    expect(parsePlacement(['some other line', `${at} Initializing session.`])).toBeNull();
  });
});
