/**
 * OpenTelemetry traces and metrics: Graph requests (and 429s), scan durations, approvals by
 * outcome, Teams activities. Exported to Azure Monitor / Application Insights only when
 * APPLICATIONINSIGHTS_CONNECTION_STRING is set (the OTel SDK with @azure/monitor-opentelemetry-
 * exporter); tests hand in their own readers and span processors (in-memory).
 *
 * Nothing is registered globally except the async-hooks context manager (so spans nest): the
 * providers live here, and the recording functions below are no-ops until `initTelemetry` runs.
 * Attributes never carry secrets, tokens, query strings or people's names.
 */
import {
  context as otelContext,
  metrics as otelMetrics,
  SpanKind,
  SpanStatusCode,
  trace as otelTrace,
  type Attributes,
  type Counter,
  type Histogram,
  type Meter,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type IMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Context as GraphContext, Middleware } from '@microsoft/microsoft-graph-client';

export const METRICS = {
  graphRequests: 'vigil.graph.requests',
  graphThrottled: 'vigil.graph.throttled',
  graphDuration: 'vigil.graph.request.duration',
  scanDuration: 'vigil.scan.duration',
  approvals: 'vigil.approvals',
  activities: 'vigil.teams.activities',
} as const;

export interface TelemetryOptions {
  /** Application Insights connection string: export traces and metrics to Azure Monitor. */
  connectionString?: string;
  /** Extra metric readers (tests: an in-memory exporter behind a reader). */
  metricReaders?: IMetricReader[];
  /** Extra span processors (tests: SimpleSpanProcessor + InMemorySpanExporter). */
  spanProcessors?: SpanProcessor[];
  serviceName?: string;
  /** How often metrics go to Azure Monitor (default 60 s). */
  exportIntervalMillis?: number;
}

export interface Telemetry {
  tracer: Tracer;
  meter: Meter;
  /** True when an Azure Monitor exporter is attached. */
  exportsToAzureMonitor: boolean;
  /** Push pending spans and metrics to every exporter. */
  flush(): Promise<void>;
  /** Flush and stop; the recording functions become no-ops again if this was the current telemetry. */
  shutdown(): Promise<void>;
}

interface Instruments {
  tracer: Tracer;
  graphRequests: Counter;
  graphThrottled: Counter;
  graphDuration: Histogram;
  scanDuration: Histogram;
  approvals: Counter;
  activities: Counter;
}

function instrumentsFor(meter: Meter, tracer: Tracer): Instruments {
  return {
    tracer,
    graphRequests: meter.createCounter(METRICS.graphRequests, { description: 'Microsoft Graph HTTP requests (each attempt, retries included)' }),
    graphThrottled: meter.createCounter(METRICS.graphThrottled, { description: 'Microsoft Graph answers 429 Too Many Requests' }),
    graphDuration: meter.createHistogram(METRICS.graphDuration, { description: 'Microsoft Graph request duration', unit: 's' }),
    scanDuration: meter.createHistogram(METRICS.scanDuration, { description: 'Duration of a scheduled scan of one tenant', unit: 's' }),
    approvals: meter.createCounter(METRICS.approvals, { description: 'Fix requests by outcome (pending, approved, succeeded, failed, rejected, expired, cancelled)' }),
    activities: meter.createCounter(METRICS.activities, { description: 'Teams activities received' }),
  };
}

let current: Instruments | undefined;
let noop: Instruments | undefined;
let contextManagerSet = false;

/** The instruments in use: the initialised telemetry's, else the global OTel API's (no-ops unless someone registered a provider). */
function inst(): Instruments {
  if (current) return current;
  noop ??= instrumentsFor(otelMetrics.getMeter('vigil'), otelTrace.getTracer('vigil'));
  return noop;
}

export function initTelemetry(opts: TelemetryOptions = {}): Telemetry {
  if (!contextManagerSet) {
    // Parent/child spans across awaits. Returns false (harmless) when another manager is already registered.
    otelContext.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    contextManagerSet = true;
  }
  const resource = resourceFromAttributes({ 'service.name': opts.serviceName ?? 'vigil', 'service.namespace': 'vigil' });
  const readers: IMetricReader[] = [...(opts.metricReaders ?? [])];
  const processors: SpanProcessor[] = [...(opts.spanProcessors ?? [])];
  if (opts.connectionString) {
    // Loaded only when used: the exporter is large and most runs (demo, tests) never need it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const az = require('@azure/monitor-opentelemetry-exporter') as typeof import('@azure/monitor-opentelemetry-exporter');
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new az.AzureMonitorMetricExporter({ connectionString: opts.connectionString }),
        exportIntervalMillis: opts.exportIntervalMillis ?? 60_000,
      }),
    );
    processors.push(new BatchSpanProcessor(new az.AzureMonitorTraceExporter({ connectionString: opts.connectionString })));
  }
  const meterProvider = new MeterProvider({ resource, readers });
  const tracerProvider = new BasicTracerProvider({ resource, spanProcessors: processors });
  const instruments = instrumentsFor(meterProvider.getMeter('vigil'), tracerProvider.getTracer('vigil'));
  current = instruments;
  return {
    tracer: instruments.tracer,
    meter: meterProvider.getMeter('vigil'),
    exportsToAzureMonitor: Boolean(opts.connectionString),
    async flush() {
      await tracerProvider.forceFlush();
      await meterProvider.forceFlush();
    },
    async shutdown() {
      if (current === instruments) current = undefined;
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

/** GUIDs and long opaque ids in a Graph path become {id}: low-cardinality span names, no identifiers. */
export function graphRoute(url: string): { version: string; route: string } {
  let path = url;
  try {
    path = new URL(url, 'https://graph.invalid').pathname;
  } catch {
    path = url.split('?')[0];
  }
  const m = /^\/(v1\.0|beta)(\/.*)?$/i.exec(path);
  const version = m ? m[1].toLowerCase() : 'other';
  const rest = (m ? (m[2] ?? '/') : path)
    .split('/')
    .map((seg) => (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(seg) || /@/.test(seg) || seg.length > 40 ? '{id}' : seg))
    .join('/');
  return { version, route: rest.replace(/\('[^']*'\)/g, "('{id}')") };
}

/** Record one Graph HTTP attempt (the Graph client's middleware calls this). */
export function recordGraphRequest(method: string, url: string, status: number, seconds: number): void {
  const { version, route } = graphRoute(url);
  const attrs: Attributes = { 'http.request.method': method, 'http.response.status_code': status, 'graph.version': version };
  const i = inst();
  i.graphRequests.add(1, attrs);
  i.graphDuration.record(seconds, attrs);
  if (status === 429) i.graphThrottled.add(1, { 'http.request.method': method, 'graph.version': version, 'graph.route': route });
}

/**
 * Graph SDK middleware: a client span and the request metrics for every HTTP attempt. It sits
 * just before the HTTP handler, so the RetryHandler's retries are each counted (a 429 followed by
 * a success is two requests and one throttle).
 */
export class GraphTelemetryHandler implements Middleware {
  private next?: Middleware;

  setNext(next: Middleware): void {
    this.next = next;
  }

  async execute(context: GraphContext): Promise<void> {
    const req = context.request;
    const url = typeof req === 'string' ? req : req.url;
    const method = (context.options?.method ?? (typeof req === 'string' ? 'GET' : req.method) ?? 'GET').toUpperCase();
    const { version, route } = graphRoute(url);
    const started = performance.now();
    await inst().tracer.startActiveSpan(`graph ${method} /${version}${route}`, { kind: SpanKind.CLIENT, attributes: { 'http.request.method': method, 'graph.version': version, 'graph.route': route } }, async (span) => {
      try {
        await this.next!.execute(context);
        const status = context.response?.status ?? 0;
        span.setAttribute('http.response.status_code', status);
        if (status >= 500 || status === 429) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${status}` });
        recordGraphRequest(method, url, status, (performance.now() - started) / 1000);
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).name });
        recordGraphRequest(method, url, 0, (performance.now() - started) / 1000);
        throw err;
      } finally {
        span.end();
      }
    });
  }
}

/** Run one scheduled scan inside a span and record its duration with its outcome. */
export async function traceScan<T>(tenantId: string, scanId: string, fn: () => Promise<T>, outcomeOf: (result: T) => string = () => 'done'): Promise<T> {
  const started = performance.now();
  return inst().tracer.startActiveSpan('vigil scan', { attributes: { 'vigil.tenant_id': tenantId, 'vigil.scan_id': scanId } }, async (span: Span) => {
    let outcome = 'failed';
    try {
      const result = await fn();
      outcome = outcomeOf(result);
      return result;
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message.slice(0, 200) });
      throw err;
    } finally {
      span.setAttribute('vigil.scan.outcome', outcome);
      inst().scanDuration.record((performance.now() - started) / 1000, { 'vigil.scan.outcome': outcome });
      span.end();
    }
  });
}

/** Run one Teams activity inside a span (server span) and count it. */
export async function traceActivity<T>(requestId: string, activityType: string, fn: () => Promise<T>): Promise<T> {
  inst().activities.add(1, { 'vigil.activity.type': activityType });
  return inst().tracer.startActiveSpan('teams activity', { kind: SpanKind.SERVER, attributes: { 'vigil.request_id': requestId, 'vigil.activity.type': activityType } }, async (span: Span) => {
    try {
      return await fn();
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).name });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Count a fix request reaching a state (pending when requested; approved, succeeded, failed, rejected, expired, cancelled …). */
export function recordApproval(state: string, actionId: string): void {
  inst().approvals.add(1, { 'vigil.approval.outcome': state, 'vigil.action': actionId });
}

/** The workflow's event sink (bot/remediation/workflow.ts ApprovalEvents), structurally. */
export interface ApprovalEventSink<R extends { state: string; actionId: string }> {
  requested(record: R): Promise<void>;
  changed(record: R): Promise<void>;
}

/** Wrap the workflow's event sink so every state change is counted (wiring in bot/index.ts). */
export function observeApprovals<R extends { state: string; actionId: string }>(events: ApprovalEventSink<R>): ApprovalEventSink<R> {
  return {
    async requested(record) {
      recordApproval(record.state, record.actionId);
      return events.requested(record);
    },
    async changed(record) {
      recordApproval(record.state, record.actionId);
      return events.changed(record);
    },
  };
}
