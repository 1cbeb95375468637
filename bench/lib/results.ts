/** The shapes of a bench run: its parameters, what each part measures, and the results file (bench/results/*.json). */

/** A progress line for the console. */
export type Log = (msg: string) => void;

/** Median (mean of the middle two for an even count), min and max of repeated measurements (all null when none). */
export type MedianMinMax = { median: number; min: number; max: number; n: number } | { median: null; min: null; max: null; n: 0 };

/** Latency summary of one run (unit of the input: µs for the load generator). NaN where nothing was recorded. */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** The one JSON line bench/lib/loadgen.ts prints. */
export interface LoadgenResult {
  requests: number;
  sent: number;
  completed: number;
  errors: number;
  non2xx: number;
  timedOut: boolean;
  rate: number;
  connections: number;
  achievedRps: number;
  latencyUs: LatencySummary;
  serviceUs: LatencySummary;
  lateUs: LatencySummary;
  maxQueue: number;
}

export type Quantile = "p50" | "p90" | "p99";
export type Quantiles<T> = Record<Quantile, T>;

export interface DataPlaneConfig {
  rate: number;
  requests: number;
  warmup: number;
  repeats: number;
  wrkSeconds: number;
  profileRequests: number;
  /** A directory to keep the agent's .cpuprofile in. */
  keepProfile?: string;
}

export interface ControlPlaneConfig {
  simWorkers: number;
  agentCounts: number[];
  pushRounds: number;
  telemetrySeconds: number;
  telemetryFrames: number;
  graphServices: number[];
  graphViaConsole: number[];
  graphUpdates: number;
  graphWarmMs: number;
}

export interface BenchConfig {
  data: DataPlaneConfig;
  control: ControlPlaneConfig;
  /** Absent in results written before the join scenario existed. */
  join?: JoinConfig;
  /** Absent in results written before the HTTP/2 and gRPC scenarios existed. */
  h2?: DataPlaneH2Config;
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  memGb: number;
  kernel: string;
  loadavg: number[];
  node: string;
  nginx: string;
  wrk: string;
  chromium: string;
  openssl: string;
  git: string;
}

/** CPU seconds and memory of a live process (/proc). */
export interface ProcMem {
  hwmMb: number | null;
  rssMb: number | null;
}
export interface ProcStats extends ProcMem {
  cpuS: number;
}

export interface MeshAgentSample {
  cpuPer1kRps: number;
  cpu: number;
  rssMb: number | null;
  hwmMb: number | null;
}

/** One repeat of the latency runs: each path's load generator output, and what the agents and nginx added. */
export interface LatencyRun {
  direct: LoadgenResult;
  mesh: LoadgenResult;
  meshAgents: MeshAgentSample[];
  nginx: LoadgenResult;
  meshAdded: Quantiles<number>;
  nginxAdded: Quantiles<number>;
}

export interface ThroughputRun {
  directRps: number;
  agentRps: number;
  nginxRps: number;
  ratio: number;
  agentCpu: number;
  nginxCpu: number;
  agentCpuPerReqRatio: number;
  agentNon2xx: number;
  nginxNon2xx: number;
}

export interface ProfileSummary {
  sampledSeconds: number;
  busySeconds: number;
  areas: { area: string; pct: number }[];
  top: { fn: string; pct: number }[];
}

/** The mesh edge as the console's graph saw it, or why it could not be read. */
export interface MeshEdgeSample {
  rps?: number;
  p99Ms?: number;
  mtlsShare?: number;
  error?: string;
}

export interface DataPlaneResult {
  params: { rate: number; connections: number; requests: number; warmup: number; repeats: number; wrkSeconds: number; responseBytes: number };
  mtls?: { enabled: boolean; procedure?: string; label?: string; reason?: string };
  agentAtRest: { rssMb: number | null; hwmMb?: number | null }[];
  latencyRuns?: LatencyRun[];
  latency: {
    directMs: Quantiles<MedianMinMax>;
    meshAddedMs: Quantiles<MedianMinMax>;
    nginxAddedMs: Quantiles<MedianMinMax>;
    p99RatioToNginx: MedianMinMax;
    errors: number;
  };
  agentCpu: { client: MedianMinMax; server: MedianMinMax };
  agentPeakRssMb: { client: number | null; server: number | null };
  meshEdge?: MeshEdgeSample | null;
  throughputRuns?: ThroughputRun[];
  throughput: {
    directRps: MedianMinMax;
    agentRps: MedianMinMax;
    nginxRps: MedianMinMax;
    ratio: MedianMinMax;
    agentCpuPerReqRatio: MedianMinMax;
  };
  profile?: ProfileSummary | { error: string };
}

export interface PushRound {
  p50: number;
  p99: number;
  last: number;
}

/** Config push at one fleet size: rounds of commit → every agent's ACK. */
export interface PushResult {
  agents: number;
  kind: string | null;
  rounds: PushRound[];
  p50Ms: MedianMinMax;
  p99Ms: MedianMinMax;
  lastMs: MedianMinMax;
  error?: undefined;
}

/** A fleet size whose agents did not join (or whose rounds failed). */
export interface PushError {
  agents: number;
  error: string;
  kind?: undefined;
  p50Ms?: undefined;
  p99Ms?: undefined;
  lastMs?: undefined;
}

export interface MinMedMax {
  median: number | null;
  min: number | null;
  max: number | null;
}

export interface GraphResult {
  services: number;
  source: GraphSource;
  nodes: number;
  edges: number;
  firstRenderMs: number;
  firstApplyMs: number;
  updates: number;
  relayouts: number;
  updateApplyMs: MinMedMax;
  updateToFrameMs: MinMedMax;
  elementUpdatesPerFrame: number | null;
}

/** "console": the page's /ws/live is the real console's; "feeder": answered by a LiveFeeder. */
export type GraphSource = "console" | "feeder";

export interface TelemetryResult {
  agents: number;
  telemetryAgents: number;
  framesPerSocketPerSecond: number;
  framesPerSecond: number;
  edgesPerFrame: number;
  seconds: number;
  idleCores: number;
  busyCores: number;
  consoleRssMb: number | null;
  consoleHwmMb: number | null;
}

export interface ControlPlaneResult {
  params: Pick<ControlPlaneConfig, "agentCounts" | "pushRounds" | "telemetrySeconds" | "telemetryFrames" | "simWorkers" | "graphUpdates">;
  push: (PushResult | PushError)[];
  pushErrors?: PushError[];
  graph: GraphResult[];
  graphErrors?: { services: number; error: string }[];
  telemetry?: TelemetryResult;
  /** Seconds to grow the fleet to each size. */
  joinSeconds?: Record<string, number>;
}

export interface JoinConfig {
  agents: number;
  /** The agents are spread over this many services (two versions each). */
  services: number;
  repeats: number;
  simWorkers: number;
  databases: ("sqlite" | "postgres")[];
}

/** Join of the whole fleet at once, one case on one database: median (min–max) over the repeats. */
export interface JoinCase {
  database: "sqlite" | "postgres";
  /** cold: fresh console and database; rejoin: the same console restarted, its agents back at once. */
  case: "cold" | "rejoin";
  agents: number;
  /** Seconds until the last agent was joined (hello, certificate, first snapshot acked). */
  lastS: MedianMinMax;
  /** Seconds until half of them were. */
  p50S: MedianMinMax;
  /**
   * CPU seconds the console process spent from the first connect until the last agent joined (absent in older
   * results): less sensitive to a busy machine than the wall time, which waits on every other process too.
   */
  consoleCpuS?: MedianMinMax;
  /** Per repeat: agents the console counted connected once all had joined (absent in older results). */
  connectedAfter?: number[];
}

export interface JoinResult {
  params: JoinConfig;
  cases: JoinCase[];
  errors: { database: string; error: string }[];
}

/** A results file, bench/results/<day>[-quick].json. */
export interface BenchResults {
  quick: boolean;
  date: string;
  /** The results file's name (set when the run ends). */
  file?: string;
  params?: BenchConfig;
  machine: Machine;
  dataPlane?: DataPlaneResult;
  dataPlaneError?: string;
  dataPlaneH2?: DataPlaneH2Result;
  dataPlaneH2Error?: string;
  controlPlane?: ControlPlaneResult;
  controlPlaneError?: string;
  join?: JoinResult;
  joinError?: string;
  seconds?: number;
}

/** One target's verdict: met true / false, null when not measured. */
export interface TargetVerdict {
  id: string;
  target: string;
  measured: string;
  met: boolean | null;
  note: string;
}

/** The message of a thrown value. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
/** The stack of a thrown value (its text when it has none). */
export function stackOf(e: unknown): string {
  return e instanceof Error ? String(e.stack ?? e) : String(e);
}

/** One h2load run (bench/lib/h2load.ts): its summary and the latency (µs) of the requests after the warm-up. */
export interface H2loadResult {
  rps: number;
  total: number;
  succeeded: number;
  failed: number;
  errored: number;
  status2xx: number;
  non2xx: number;
  /** Total requests/s asked for; null: as fast as it goes. */
  rate: number | null;
  connections: number;
  streams: number;
  seconds: number;
  latencyUs: LatencySummary;
}

export interface DataPlaneH2Config {
  rate: number;
  /** h2load's measured and warm-up seconds per fixed-rate run. */
  seconds: number;
  warmupSeconds: number;
  /** Seconds of each maximum-throughput run. */
  maxSeconds: number;
  /** The HTTP/1.1 comparison (bench/lib/loadgen.ts): measured requests and warm-up. */
  http1Requests: number;
  http1Warmup: number;
  repeats: number;
}

/** One path of a fixed-rate scenario over the repeats: latency, what it adds to the direct path, CPU of its agents. */
export interface H2PathSummary {
  path: string;
  latencyMs: Quantiles<MedianMinMax>;
  /** Path − direct in the same repeat; null for the direct path itself. */
  addedMs: Quantiles<MedianMinMax> | null;
  rps: MedianMinMax;
  /** Failed, errored and non-2xx requests over all repeats. */
  errors: number;
  /** Repeats whose run did not finish in time (absent: none). */
  unfinishedRuns?: number;
  /** CPU (vCPU) per 1,000 requests/s of the client and server agents on this path. */
  agentCpuPer1kRps?: { client: MedianMinMax; server: MedianMinMax };
}

export interface H2Scenario {
  id: "h2-fixed" | "grpc-fixed" | "http1-mesh-protocol";
  title: string;
  /** The load generator and its settings, as the page says them. */
  client: string;
  paths: H2PathSummary[];
}

export interface GrpcMaxRun {
  directRps: number;
  agentsRps: number;
  nginxRps: number;
  ratio: number;
  /** CPU (vCPU) of the client and server agent, and of nginx A + B workers, during their runs. */
  agentsCpu: number[];
  nginxCpu: number[];
  agentsErrors: number;
  nginxErrors: number;
}

export interface DataPlaneH2Result {
  params: DataPlaneH2Config & { responseBytes: number; grpcRequestBytes: number };
  /** Load average before and after, and the share of CPU time stolen by the hypervisor during the scenarios. */
  noise: { loadavgBefore: number[]; loadavgAfter: number[]; stealShare: number | null };
  scenarios: H2Scenario[];
  grpcMax: {
    client: string;
    runs: GrpcMaxRun[];
    directRps: MedianMinMax;
    agentsRps: MedianMinMax;
    nginxRps: MedianMinMax;
    ratio: MedianMinMax;
  };
  /** Peak RSS (VmHWM) of each agent at the end, by role. */
  agentPeakRssMb: Record<string, number | null>;
  agentAtRestRssMb: Record<string, number | null>;
}
