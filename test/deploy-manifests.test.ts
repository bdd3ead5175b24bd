import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { loadConfig } from "../src/config/config.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

/**
 * deploy/ on paper: no Kubernetes cluster runs here, so the manifests are held to the server
 * they deploy (settings, routes, port), and HAProxy's configuration to HAProxy's own check.
 */

const KUBE_DIR = "deploy/kubernetes";
const HAPROXY_CFG = "deploy/haproxy/haproxy.cfg";

/** The environment names config.ts reads: the keys of its `envSchema`. */
function settingNames(): Set<string> {
  const source = fs.readFileSync("src/config/config.ts", "utf8");
  const block = /const envSchema = z\.object\(\{\n([\s\S]*?)\n\}\);/.exec(source)?.[1];
  if (!block) throw new Error("envSchema not found in src/config/config.ts");
  return new Set([...block.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]!));
}

/**
 * Settings of many nodes (README, "Many machines") that config.ts's schema does not declare
 * yet; a name leaves this list once the schema has it, so the check below holds it again.
 */
const CLUSTER_SETTINGS = ["NODE_URL", "CLUSTER_SECRET", "NODE_LOST_SECONDS", "DRAIN_SECONDS"];

/** Values the kubelet would put in from the downward API, for the config check. */
const DOWNWARD_SAMPLES: Record<string, string> = {
  "status.podIP": "10.0.0.5",
  "metadata.name": "firecrawl-interact-7d9f8b6c4-x2x9z",
};

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string };
  };
}

function manifests(): { file: string; doc: any }[] {
  return fs
    .readdirSync(KUBE_DIR)
    .filter((f) => /\.ya?ml$/.test(f))
    .flatMap((file) => {
      const docs = parseAllDocuments(fs.readFileSync(path.join(KUBE_DIR, file), "utf8"));
      return docs.map((d) => {
        expect(d.errors, `${file} parses`).toEqual([]);
        return { file, doc: d.toJS() };
      });
    });
}

const all = manifests();
const ofKind = (kind: string) => all.filter((m) => m.doc?.kind === kind).map((m) => m.doc);
const deployment = ofKind("Deployment")[0];
const podSpec = deployment?.spec?.template?.spec;
const container = podSpec?.containers?.[0];
const env: EnvVar[] = container?.env ?? [];
const envValue = (name: string) => env.find((e) => e.name === name)?.value;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.close());

describe("Kubernetes manifests", () => {
  it("parse, each with its kind, and the kustomization lists the files that exist", () => {
    expect(all.map((m) => `${m.file}: ${m.doc.kind}`).sort()).toEqual([
      "deployment.yaml: Deployment",
      "kustomization.yaml: Kustomization",
      "pdb.yaml: PodDisruptionBudget",
      "secret.example.yaml: Secret",
      "service.yaml: Service",
    ]);
    const kustomization = ofKind("Kustomization")[0];
    for (const file of kustomization.resources) {
      expect(fs.existsSync(path.join(KUBE_DIR, file)), file).toBe(true);
    }
  });

  it("name only settings of the server in the nodes' environment", () => {
    const settings = settingNames();
    // A sanity check of the extraction itself.
    for (const known of ["PORT", "DATABASE_URL", "NODE_ID", "PUBLIC_URL"]) {
      expect(settings.has(known), known).toBe(true);
    }
    const valid = new Set([...settings, ...CLUSTER_SETTINGS]);
    const values = env.map((e) => e.value ?? "").join("\n");
    for (const e of env) {
      if (valid.has(e.name)) continue;
      // The only other kind allowed: a downward-API value another variable is built from.
      expect(e.valueFrom?.fieldRef, `${e.name} is not a setting`).toBeDefined();
      expect(values, `${e.name} is used as $(${e.name})`).toContain(`$(${e.name})`);
    }
  });

  it("give values the server accepts, with the example Secret's", () => {
    const secret = ofKind("Secret")[0];
    const values: Record<string, string> = {};
    for (const e of env) {
      const from = e.valueFrom;
      if (from?.fieldRef) values[e.name] = DOWNWARD_SAMPLES[from.fieldRef.fieldPath]!;
      else if (from?.secretKeyRef) {
        expect(from.secretKeyRef.name).toBe(secret.metadata.name);
        expect(secret.stringData, from.secretKeyRef.key).toHaveProperty(from.secretKeyRef.key);
        values[e.name] = secret.stringData[from.secretKeyRef.key];
      } else values[e.name] = e.value!;
    }
    // $(NAME) as the kubelet expands it, from variables defined earlier in the list.
    for (const e of env) {
      values[e.name] = values[e.name]!.replace(/\$\((\w+)\)/g, (_, n: string) => values[n]!);
    }
    expect(values.NODE_URL).toBe("http://10.0.0.5:3002");
    expect(values.CLUSTER_SECRET!.length).toBeGreaterThanOrEqual(32);
    const config = loadConfig(values);
    expect(config.port).toBe(3002);
    expect(config.databaseUrl).toMatch(/^postgres:\/\//);
    expect(config.nodeId).toBe(DOWNWARD_SAMPLES["metadata.name"]);
  });

  it("point every probe at a route of the app, on the port the server listens on", async () => {
    const ports: any[] = container.ports;
    expect(ports.map((p) => p.containerPort)).toEqual([Number(envValue("PORT"))]);
    const probes = ["readinessProbe", "livenessProbe", "startupProbe"].filter((p) => container[p]);
    expect(probes).toEqual(expect.arrayContaining(["readinessProbe", "livenessProbe"]));
    expect(container.readinessProbe.httpGet.path).toBe("/health/ready");
    expect(container.livenessProbe.httpGet.path).toBe("/health/live");
    for (const probe of probes) {
      const { path: url, port } = container[probe].httpGet;
      expect(
        ports.some((p) => p.name === port || p.containerPort === port),
        `${probe} port`,
      ).toBe(true);
      expect(server.app.hasRoute({ method: "GET", url }), `${probe} ${url}`).toBe(true);
    }
    expect((await fetch(`${server.url}/health/live`)).status).toBe(200);
  });

  it("route the Service and the PodDisruptionBudget to the nodes' pods, without affinity", () => {
    const labels = deployment.spec.template.metadata.labels;
    expect(deployment.spec.selector.matchLabels).toEqual(labels);
    const service = ofKind("Service")[0];
    expect(service.spec.selector).toEqual(labels);
    expect(service.spec.sessionAffinity ?? "None").toBe("None");
    expect(container.ports.map((p: any) => p.name)).toContain(service.spec.ports[0].targetPort);
    const pdb = ofKind("PodDisruptionBudget")[0];
    expect(pdb.spec.selector.matchLabels).toEqual(labels);
  });

  it("let a stopping pod drain: a grace period longer than DRAIN_SECONDS", () => {
    const drain = Number(envValue("DRAIN_SECONDS"));
    expect(drain).toBeGreaterThan(0);
    expect(podSpec.terminationGracePeriodSeconds).toBeGreaterThan(drain);
  });

  it("ask for what bubblewrap needs, and no more than that", () => {
    const sc = container.securityContext;
    expect(sc.privileged ?? false).toBe(false);
    expect(sc.allowPrivilegeEscalation).toBe(false);
    expect(sc.capabilities.drop).toEqual(["ALL"]);
    expect(sc.capabilities.add ?? []).toEqual([]);
    expect(sc.procMount).toBe("Unmasked");
    // Kubernetes grants an unmasked /proc only to pods in a user namespace of their own.
    expect(podSpec.hostUsers).toBe(false);
    expect(podSpec.securityContext.runAsNonRoot).toBe(true);
  });
});

describe("HAProxy configuration", () => {
  const cfg = fs.readFileSync(HAPROXY_CFG, "utf8");
  const lines = cfg
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter(Boolean);

  it("checks the nodes' readiness route, balances round robin without stickiness", () => {
    const check = lines.find((l) => l.startsWith("option httpchk"));
    expect(check).toBe("option httpchk GET /health/ready");
    expect(server.app.hasRoute({ method: "GET", url: "/health/ready" })).toBe(true);
    expect(lines).toContain("balance roundrobin");
    expect(lines.filter((l) => /^(cookie|stick|hash-type|balance source)/.test(l))).toEqual([]);
    expect(lines.some((l) => /^timeout tunnel \d+/.test(l))).toBe(true);
  });

  const haproxy = ["/usr/sbin/haproxy", "/usr/local/sbin/haproxy"].find((f) => fs.existsSync(f));
  it.skipIf(!haproxy)("passes haproxy -c with the addresses npm run cluster gives it", () => {
    const out = execFileSync(haproxy!, ["-c", "-f", HAPROXY_CFG], {
      env: {
        PATH: process.env.PATH,
        CLUSTER_BIND: "127.0.0.1:3002",
        NODE_1_ADDR: "127.0.0.1:40001",
        NODE_2_ADDR: "127.0.0.1:40002",
        NODE_3_ADDR: "127.0.0.1:40003",
      },
      encoding: "utf8",
    });
    expect(out).toContain("Configuration file is valid");
  });
});
