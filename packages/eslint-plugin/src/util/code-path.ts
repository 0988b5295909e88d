import type { TSESLint, TSESTree } from "@typescript-eslint/utils";

type CodePath = TSESLint.CodePath;
type CodePathSegment = TSESLint.CodePathSegment;

/** Where the code path analysis stands: the segments being walked and how each final one exits. */
export interface PathState {
  readonly codePath: CodePath;
  /** Several at once inside `finally`, which ESLint walks once for every way into it. */
  readonly current: Set<CodePathSegment>;
  /** Final segment id → the `return` or `throw` that ends it. */
  readonly exits: Map<string, TSESTree.ReturnStatement | TSESTree.ThrowStatement>;
}

/** The code path listeners ESLint calls; typescript-eslint's listener type does not list them. */
export interface CodePathListener {
  onCodePathStart(codePath: CodePath, node: TSESTree.Node): void;
  onCodePathEnd(codePath: CodePath, node: TSESTree.Node): void;
  onCodePathSegmentStart(segment: CodePathSegment): void;
  onCodePathSegmentEnd(segment: CodePathSegment): void;
  onUnreachableCodePathSegmentStart(segment: CodePathSegment): void;
  onUnreachableCodePathSegmentEnd(segment: CodePathSegment): void;
  ReturnStatement(node: TSESTree.ReturnStatement): void;
  ThrowStatement(node: TSESTree.ThrowStatement): void;
}

/**
 * Keeps a stack of {@link PathState}s, one per function being walked; `onEnd` runs when a
 * function's code path is complete (every segment and edge known).
 */
export function trackCodePaths(onEnd: (state: PathState, node: TSESTree.Node) => void): {
  listener: CodePathListener;
  top: () => PathState | undefined;
} {
  const stack: PathState[] = [];
  const top = (): PathState | undefined => stack[stack.length - 1];
  const enter = (segment: CodePathSegment): void => void top()?.current.add(segment);
  const leave = (segment: CodePathSegment): void => void top()?.current.delete(segment);
  const exit = (node: TSESTree.ReturnStatement | TSESTree.ThrowStatement): void => {
    const state = top();
    if (state === undefined) return;
    for (const segment of state.current) state.exits.set(segment.id, node);
  };
  return {
    top,
    listener: {
      onCodePathStart(codePath) {
        stack.push({ codePath, current: new Set(), exits: new Map() });
      },
      onCodePathEnd(_codePath, node) {
        const state = stack.pop();
        if (state !== undefined) onEnd(state, node);
      },
      onCodePathSegmentStart: enter,
      onCodePathSegmentEnd: leave,
      onUnreachableCodePathSegmentStart: enter,
      onUnreachableCodePathSegmentEnd: leave,
      ReturnStatement: exit,
      ThrowStatement: exit,
    },
  };
}

/**
 * A reachable final segment that can be reached from `start` without passing a segment in
 * `covered`: a way out of the function on which the work was not done. Undefined if none.
 */
export function uncoveredExit(
  start: Iterable<CodePathSegment>,
  covered: ReadonlySet<string>,
): CodePathSegment | undefined {
  const seen = new Set<string>();
  const pending = [...start];
  for (let segment = pending.pop(); segment !== undefined; segment = pending.pop()) {
    if (seen.has(segment.id) || !segment.reachable || covered.has(segment.id)) continue;
    seen.add(segment.id);
    if (segment.nextSegments.length === 0) return segment;
    pending.push(...segment.nextSegments);
  }
  return undefined;
}
