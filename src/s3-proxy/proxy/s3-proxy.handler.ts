import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import proxyAddr from 'proxy-addr';
import type { Logger } from 'pino';
import { StowageConfig } from '@stowage/config';
import { LOGGER } from '../../logging/logging.module';
import { answer, answerFailure } from './answer';
import { ProxyAuthenticator } from './authenticate';
import { Authenticated, Decision, Exchange, newExchange, Refusal } from './exchange';
import { ProxyForwarder } from './forward';
import { ProxyGate } from './gate';
import { ProxyPostObject } from './post-object';
import { ProxyRecorder } from './record';
import { Route, route } from './route';

/**
 * The S3 proxy's request pipeline: route → authenticate → gate → forward → record, each stage a
 * file of its own working on one `Exchange`. A stage returns its result or a refusal; this class
 * only passes results on and sends every refusal, and anything thrown, to `answerFailure`.
 * Stages answer synchronously when they can: requests answered from memory (refusals, ListBuckets)
 * complete without creating a promise.
 */
@Injectable()
export class S3ProxyHandler {
  private readonly requestIdPrefix = randomBytes(4).toString('hex').toUpperCase();
  private requestCounter = 0;
  private readonly trust: ((addr: string, i: number) => boolean) | undefined;
  private readonly hostSuffixes: readonly string[];
  private readonly sigv2Enabled: boolean;

  constructor(
    config: StowageConfig,
    private readonly authenticator: ProxyAuthenticator,
    private readonly gate: ProxyGate,
    private readonly forwarder: ProxyForwarder,
    private readonly recorder: ProxyRecorder,
    private readonly postObject: ProxyPostObject,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    const trusted = config.server.trusted_proxies;
    this.trust = trusted.length > 0 ? proxyAddr.compile(trusted) : undefined;
    this.hostSuffixes = config.s3_proxy.host_suffixes;
    this.sigv2Enabled = config.s3_proxy.sigv2_enabled;
  }

  handle(req: IncomingMessage, res: ServerResponse, expectContinue = false): void {
    const x = newExchange(
      req,
      res,
      this.nextRequestId(),
      performance.now(),
      this.trust ? proxyAddr(req, this.trust) : (req.socket.remoteAddress ?? ''),
      expectContinue,
    );
    this.recorder.opened();
    // 'close' comes once per response; `on` spares the wrapper `once` builds for every request.
    res.on('close', () => this.recorder.closed(x));
    try {
      const pending = this.run(x);
      if (pending) pending.catch((err: unknown) => this.fail(x, err));
    } catch (err) {
      this.fail(x, err);
    }
  }

  private nextRequestId(): string {
    this.requestCounter = (this.requestCounter + 1) >>> 0;
    return this.requestIdPrefix + this.requestCounter.toString(16).toUpperCase().padStart(8, '0');
  }

  private run(x: Exchange): void | Promise<void> {
    const routed = route(x, this.hostSuffixes, this.sigv2Enabled);
    if (routed instanceof Error) return this.fail(x, routed);
    if (routed.entry === 'post-form') {
      return this.postObject.handle(x, routed).then((refusal) => {
        if (refusal) this.fail(x, refusal);
      });
    }
    if (routed.entry !== 'signed') return this.gated(x, routed, undefined);
    const auth = this.authenticator.authenticate(x, routed.target, routed.sigv2);
    if (auth instanceof Promise) return auth.then((a) => this.authenticated(x, routed, a));
    return this.authenticated(x, routed, auth);
  }

  private authenticated(x: Exchange, routed: Route, auth: Authenticated | Refusal): void | Promise<void> {
    if (auth instanceof Error) return this.fail(x, auth);
    return this.gated(x, routed, auth);
  }

  private gated(x: Exchange, routed: Route, auth: Authenticated | undefined): void | Promise<void> {
    const decision = this.gate.decide(x, routed, auth);
    if (decision instanceof Promise) return decision.then((d) => this.act(x, routed, d));
    return this.act(x, routed, decision);
  }

  private act(x: Exchange, routed: Route, decision: Decision | Refusal): void | Promise<void> {
    if (decision instanceof Error) return this.fail(x, decision);
    if (decision.kind === 'answer') return answer(x, decision);
    const refused = this.recorder.admit(x);
    if (refused) return this.fail(x, refused);
    return this.forwarder.forward(x, routed, decision).then((refusal) => {
      if (refusal) this.fail(x, refusal);
    });
  }

  private fail(x: Exchange, err: unknown): void {
    answerFailure(x, err, this.logger);
  }
}
