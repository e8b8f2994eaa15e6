/**
 * Dependency order as pure functions over names, so start and stop order are tested
 * without processes. `deps` maps each service to the services it starts after.
 */
export type DependencyMap = ReadonlyMap<string, readonly string[]>;

/** The first dependency cycle found, as a path that ends where it starts, or null. */
export function findCycle(deps: DependencyMap): string[] | null {
  const done = new Set<string>();
  const onPath: string[] = [];
  const visit = (name: string): string[] | null => {
    const at = onPath.indexOf(name);
    if (at >= 0) return [...onPath.slice(at), name];
    if (done.has(name)) return null;
    onPath.push(name);
    for (const dep of deps.get(name) ?? []) {
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    onPath.pop();
    done.add(name);
    return null;
  };
  for (const name of [...deps.keys()].sort()) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return null;
}

/** Services waiting to start whose every dependency is satisfied: they may start now, together. */
export function startable(deps: DependencyMap, waiting: Iterable<string>, satisfied: ReadonlySet<string>): string[] {
  return [...waiting].filter((name) => (deps.get(name) ?? []).every((dep) => satisfied.has(dep)));
}

/** Running services none of whose dependents still run: they may stop now (reverse order). */
export function stoppable(deps: DependencyMap, running: ReadonlySet<string>): string[] {
  return [...running].filter((name) => ![...running].some((other) => (deps.get(other) ?? []).includes(name)));
}

/** A full start order, layer by layer (each layer may start in parallel); the readable statement of start order in tests. */
export function startLayers(deps: DependencyMap): string[][] {
  const layers: string[][] = [];
  const placed = new Set<string>();
  let waiting = [...deps.keys()].sort();
  while (waiting.length > 0) {
    const layer = startable(deps, waiting, placed);
    if (layer.length === 0) throw new Error(`dependency cycle among ${waiting.join(', ')}`);
    layers.push(layer);
    for (const name of layer) placed.add(name);
    waiting = waiting.filter((name) => !placed.has(name));
  }
  return layers;
}
