import net from 'node:net';
import { GrpcError } from '../wire/error.js';
import { Metadata } from '../wire/metadata.js';
import { Status } from '../wire/status.js';
import { interceptCall, type ClientInterceptor } from './interceptors.js';

/** What a metadata generator is told about the call it authenticates. */
export interface CallCredentialsContext {
  /** "https://authority/package.Service", the audience JWT-style credentials use. */
  serviceUrl: string;
  /** The method path, "/package.Service/Method". */
  method: string;
}

/**
 * Makes the metadata to add to a call, e.g. an authorization header. May be
 * async; throwing a GrpcError fails the call with that status, any other
 * error fails it with UNAVAILABLE, as in other gRPC implementations.
 */
export type MetadataGenerator = (context: CallCredentialsContext) => Metadata | Promise<Metadata>;

/**
 * Per-call authentication: metadata generators run before each call starts.
 * Set them on a channel (every call) or on one call; both apply, the
 * channel's first. Refused over plaintext unless the channel sets
 * `allowInsecureCallCredentials`.
 */
export class CallCredentials {
  private constructor(private readonly generators: readonly MetadataGenerator[]) {}

  /** Credentials that run `generator` before each call and add the metadata it returns (e.g. a fresh token). */
  static fromMetadataGenerator(generator: MetadataGenerator): CallCredentials {
    return new CallCredentials([generator]);
  }

  /** `authorization: Bearer <token>`; pass a function to fetch or refresh the token per call. */
  static bearerToken(token: string | (() => string | Promise<string>)): CallCredentials {
    const get = typeof token === 'string' ? () => token : token;
    return CallCredentials.fromMetadataGenerator(async () => new Metadata({ authorization: `Bearer ${await get()}` }));
  }

  /** `authorization: Basic base64(user:password)` (RFC 7617). */
  static basicAuth(user: string, password: string): CallCredentials {
    if (user.includes(':')) throw new TypeError('basic auth user names cannot contain ":"');
    const value = `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
    return CallCredentials.fromMetadataGenerator(() => new Metadata({ authorization: value }));
  }

  /** Both credentials' metadata, this one's first. */
  compose(other: CallCredentials): CallCredentials {
    return new CallCredentials([...this.generators, ...other.generators]);
  }

  /** Runs every generator, in order, for one call and merges their metadata. Rejects if one of them fails. */
  async generateMetadata(context: CallCredentialsContext): Promise<Metadata> {
    const out = new Metadata();
    for (const generate of this.generators) {
      let md: Metadata;
      try {
        md = await generate(context);
      } catch (err) {
        throw credentialsError(err);
      }
      if (!(md instanceof Metadata)) throw new GrpcError(Status.INTERNAL, 'a call credentials generator returned something other than Metadata');
      out.merge(md);
    }
    return out;
  }
}

/** Whether plaintext channels may carry call credentials: never (default), only to loopback targets, or always. */
export type InsecureCallCredentialsPolicy = false | 'loopback' | true;

/**
 * gRFC A54: codes the control plane must not produce are turned into
 * INTERNAL, so an application never mistakes a credentials failure for its own.
 */
const RESERVED_FOR_APPLICATIONS = new Set([
  Status.INVALID_ARGUMENT, Status.NOT_FOUND, Status.ALREADY_EXISTS, Status.FAILED_PRECONDITION,
  Status.ABORTED, Status.OUT_OF_RANGE, Status.DATA_LOSS,
]);

function credentialsError(err: unknown): GrpcError {
  if (err instanceof GrpcError) {
    if (!RESERVED_FOR_APPLICATIONS.has(err.code)) return err;
    return new GrpcError(Status.INTERNAL, `call credentials failed with an illegal status ${err.code}: ${err.details}`);
  }
  return new GrpcError(Status.UNAVAILABLE, `call credentials failed: ${err instanceof Error ? err.message : String(err)}`);
}

/** Why call credentials may not be sent to this target, or undefined if they may. */
export function insecureCredentialsProblem(target: { loopback: boolean; authority: string }, secure: boolean, policy: InsecureCallCredentialsPolicy): string | undefined {
  if (secure || policy === true) return undefined;
  if (policy === 'loopback' && target.loopback) return undefined;
  const allowed = policy === 'loopback' ? ' (allowInsecureCallCredentials is "loopback" and this target is not)' : '';
  return `call credentials need a TLS channel: they would go to ${target.authority} in plaintext${allowed}. Use tls, or set allowInsecureCallCredentials on the channel`;
}

/** The layer that adds credentials' metadata at the start of a call, innermost in the chain. */
export function callCredentialsInterceptor(credentials: CallCredentials, authority: string, refusal: string | undefined): ClientInterceptor {
  return (call, next) => interceptCall(next(), {
    async start(metadata, proceed) {
      if (refusal) throw new GrpcError(Status.UNAUTHENTICATED, refusal);
      const service = call.method.path.slice(0, call.method.path.lastIndexOf('/'));
      const host = call.options.authority ?? authority;
      metadata.merge(await credentials.generateMetadata({ serviceUrl: `https://${host}${service}`, method: call.method.path }));
      proceed(metadata);
    },
  });
}
