import { AlreadyExistsError, InvalidArgumentError } from '@supernetd/sdk';
import type { StrategyFactory, StrategyModule } from '@supernetd/sdk';
import { compileConfigSchema } from './strategy-config-schema.ts';

/** A registered strategy: its factory and the module a worker thread imports to get it again. */
export interface RegisteredStrategy {
  /** The module's factory, whose parseConfig first checks the config against its configSchema, if any. */
  factory: StrategyFactory;
  /** `builtin`, or the package name or path it was loaded from. */
  origin: string;
  /** Import specifier (package name or file URL) that yields the same factory in a worker thread. */
  moduleSpecifier: string;
}

/**
 * The search strategies the server knows, keyed by id. Filled once at startup by the composition
 * root; read by the experiment manager.
 */
export class StrategyRegistry {
  private readonly byId = new Map<string, RegisteredStrategy>();

  /** Registers every factory a module exports. Throws AlreadyExistsError when an id is taken. */
  registerModule(mod: StrategyModule, origin: string, moduleSpecifier: string): string[] {
    const factories = [...(mod.strategies ?? []), ...(mod.strategy ? [mod.strategy] : [])];
    if (factories.length === 0) {
      throw new InvalidArgumentError(`strategy module '${origin}' exports neither 'strategy' nor 'strategies'`);
    }
    for (const factory of factories) this.register(factory, origin, moduleSpecifier);
    return factories.map((f) => f.id);
  }

  /**
   * Registers one factory. Throws AlreadyExistsError naming both origins when the id is taken, and
   * InvalidArgumentError when its configSchema does not compile.
   */
  register(factory: StrategyFactory, origin: string, moduleSpecifier: string): void {
    if (typeof factory?.id !== 'string' || factory.id === '' || typeof factory.create !== 'function' || typeof factory.parseConfig !== 'function') {
      throw new InvalidArgumentError(`strategy module '${origin}' exports something that is not a StrategyFactory`);
    }
    const existing = this.byId.get(factory.id);
    if (existing) {
      throw new AlreadyExistsError(
        'INVALID_ARGUMENT',
        `strategy id '${factory.id}' from '${origin}' is already registered by '${existing.origin}'`,
      );
    }
    const check = compileConfigSchema(factory, origin);
    const parse = factory.parseConfig.bind(factory);
    // the factory itself stays the prototype, so a class-based factory keeps its methods
    const validated = Object.assign(Object.create(factory) as StrategyFactory, {
      parseConfig: (raw: unknown) => {
        check(raw ?? {});
        return parse(raw);
      },
    });
    this.byId.set(factory.id, { factory: validated, origin, moduleSpecifier });
  }

  /** The strategy `id`. Throws InvalidArgumentError(UNKNOWN_STRATEGY) listing the known ids. */
  get(id: string): RegisteredStrategy {
    const entry = this.byId.get(id);
    if (!entry) {
      const known = this.ids();
      throw new InvalidArgumentError(
        `unknown strategy '${id}'; registered strategies: ${known.length ? known.join(', ') : '(none)'}`,
        'UNKNOWN_STRATEGY',
      );
    }
    return entry;
  }

  /** Registered ids, sorted. */
  ids(): string[] {
    return [...this.byId.keys()].sort();
  }

  /** Every registered strategy, ordered by id. */
  list(): RegisteredStrategy[] {
    return this.ids().map((id) => this.byId.get(id) as RegisteredStrategy);
  }
}
