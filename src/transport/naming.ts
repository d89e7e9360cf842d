// Every built-in naming scheme, registered on import: dns (the default), ipv4, ipv6, unix, unix-abstract.
import './dns-resolver.js';

export { FixedResolver, registerResolver, resolverFor } from './resolver.js';
export type { Resolver, ResolverFactory, ResolverListener, ResolverOptions, ResolverUpdate } from './resolver.js';
export { formatAddress, type Address, type TargetUri } from './target-uri.js';
