"use client";
/** The tracing policy (head sampling rate, slow thresholds), edited by operators and pushed to every agent. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useTRPC } from "../lib/trpc.ts";

function parseByService(text: string): Record<string, number> | null {
  const out: Record<string, number> = {};
  for (const part of text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, ms] = part.split("=").map((s) => s.trim());
    const n = Number(ms);
    if (!name || !Number.isInteger(n) || n < 1) return null;
    out[name] = n;
  }
  return out;
}

export function TracingPolicyCard() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const policy = useQuery(trpc.telemetry.policy.queryOptions());
  const [rate, setRate] = useState("");
  const [slow, setSlow] = useState("");
  const [by, setBy] = useState("");
  const [msg, setMsg] = useState<string | null>(null);
  useEffect(() => {
    if (!policy.data) return;
    setRate(String(Math.round(policy.data.sampleRate * 10000) / 100));
    setSlow(String(policy.data.slowThresholdMs));
    setBy(
      Object.entries(policy.data.slowThresholdMsByService)
        .map(([k, v]) => `${k}=${v}`)
        .join(", "),
    );
  }, [policy.data]);
  const save = useMutation(
    trpc.telemetry.setPolicy.mutationOptions({
      onSuccess: () => {
        setMsg("saved, pushed to agents");
        void qc.invalidateQueries({ queryKey: trpc.telemetry.policy.queryKey() });
      },
      onError: (e) => setMsg(e.message),
    }),
  );
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    const sampleRate = Number(rate) / 100;
    const slowThresholdMs = Number(slow);
    const byService = parseByService(by);
    if (!(sampleRate >= 0 && sampleRate <= 1) || !Number.isInteger(slowThresholdMs) || slowThresholdMs < 1 || byService === null) {
      setMsg("sampling 0–100 %, thresholds whole ms ≥ 1, per service as name=ms, …");
      return;
    }
    save.mutate({ sampleRate, slowThresholdMs, slowThresholdMsByService: byService });
  };
  return (
    <section className="card" data-testid="tracing-policy">
      <h2>Sampling policy</h2>
      <form className="filters" onSubmit={submit}>
        <label>
          Head sampling <input className="narrow" data-testid="policy-rate" value={rate} onChange={(e) => setRate(e.target.value)} /> %
        </label>
        <label>
          Slow above <input className="narrow" data-testid="policy-slow" value={slow} onChange={(e) => setSlow(e.target.value)} /> ms
        </label>
        <label>
          per service{" "}
          <input data-testid="policy-by-service" placeholder="payments=300, cart=200" value={by} onChange={(e) => setBy(e.target.value)} />
        </label>
        <button type="submit" data-testid="policy-save" disabled={save.isPending}>
          Save
        </button>
        {msg && <span className="small muted">{msg}</span>}
      </form>
      <p className="small muted">Errors and requests slower than their service&apos;s threshold are always kept, whatever the head rate.</p>
    </section>
  );
}
